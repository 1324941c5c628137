// MemOpListener: the sentry's end of a systrap stub process's seccomp user
// notifications (SECCOMP_RET_USER_NOTIF). The stub filter sends every
// mmap/munmap made from the stub page here instead of running it; during a
// mapping sync the sentry lets through exactly the calls it queued, in
// order, from the one thread it asked to run them, and refuses everything
// else with ENOSYS. mmap and munmap take no pointer arguments, so what is
// checked (the registers at syscall entry) is what runs.
//
// The sync ends with the thread's munmap(0, 0) marker: since a thread runs
// its calls one after another, the marker proves every call before it has
// completed, which nothing the app can write could fake.
//
//   MemOpListener l(std::move(fd));
//   Errno e = l.Serve(tid, calls, [&] { return !process.Exited(); });
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>

#include <functional>
#include <vector>

#include "base/errno.h"
#include "base/unique_fd.h"
#include "platform/ptrace/mapping_sync.h"

namespace palisade::platform {

class MemOpListener {
 public:
  MemOpListener() = default;
  explicit MemOpListener(UniqueFd fd) : fd_(std::move(fd)) {}
  bool ok() const { return fd_.ok(); }

  // Answers notifications until thread `tid` has made each of `calls` (let
  // through) and then the end marker. Calls from other threads, or not the
  // next expected one, are refused (ENOSYS). ESRCH if alive() says the
  // process is gone, EIO if the listener fails.
  Errno Serve(pid_t tid, const std::vector<MemOpCall>& calls, const std::function<bool()>& alive);
  // Refuses (ENOSYS) every notification pending now: calls app code made
  // by jumping into the stub page outside a sync, which would otherwise
  // wait for the next sync. Never blocks.
  void RefusePending();

 private:
  // One pending notification (false: errno says why).
  bool Receive(seccomp_notif& n);
  // The answer to notification `id` (false: errno says why).
  bool Answer(uint64_t id, uint32_t flags, int error);

  UniqueFd fd_;
};

}  // namespace palisade::platform
