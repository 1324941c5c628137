// The wait at the heart of poll(2) and select(2): check the readiness of
// a set of files and, if none is ready, sleep until one may be, the
// deadline passes, or a signal arrives; then check again.
//
//   std::vector<PollItem> items = {{file, POLLIN | POLLERR | POLLHUP}};
//   PAL_TRY(int n, WaitForReadiness(t, items, deadline_ns));
//   if (items[0].revents & POLLIN) ...
//
// Sleeping: the task's waiter is registered on every file (EventRegister)
// before the re-check, so no wake-up is lost. Files served by a host fd
// (HostFdForPoll() >= 0) wake us through that fd: one such fd is handed
// to Task::Block directly; with several, a temporary host epoll watches
// them all and Block sleeps on it (HostFdSet). If even that cannot be made
// (out of host fds), the sleep is cut into 10 ms slices that re-check
// every file.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "base/errno.h"
#include "base/unique_fd.h"
#include "sentry/vfs/file_description.h"

namespace palisade {
class Task;
}

namespace palisade::sys {

struct PollItem {
  FileRef file;          // null: not a file to check (revents is preset)
  uint32_t mask = 0;     // events asked for, POLLERR|POLLHUP included
  uint32_t revents = 0;  // out: Readiness(mask) & mask
};

// Returns how many items have revents != 0 (preset ones included), 0 when
// the deadline passed first (-1: none; 0: just check once), or EINTR when
// a signal came first and nothing was ready. The caller turns EINTR into
// its own restart code.
ErrnoOr<int> WaitForReadiness(Task& t, std::span<PollItem> items, int64_t deadline_ns);

// Host fds to sleep on at once, as one fd for Task::Block.
class HostFdSet {
 public:
  void Add(int fd, uint32_t events);
  bool empty() const { return fds_.empty(); }
  // The fd and events to pass to Task::Block: the only fd itself, or a
  // host epoll watching all of them. EMFILE/ENFILE/ENOMEM if the epoll
  // cannot be made.
  ErrnoOr<std::pair<int, short>> BlockTarget();

 private:
  std::vector<std::pair<int, uint32_t>> fds_;  // distinct fds, merged masks
  UniqueFd ep_;
};

}  // namespace palisade::sys
