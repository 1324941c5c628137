#include "sentry/syscalls/sys_poll_wait.h"

#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>

#include "sentry/kernel/task.h"

namespace palisade::sys {
namespace {

// The events a host poll/epoll understands for a file's wait mask.
constexpr uint32_t kHostEvents =
    POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | POLLRDBAND | POLLWRBAND | POLLRDHUP;

// Slice of sleep when host fds cannot be watched together.
constexpr int64_t kFallbackSliceNs = 10 * 1000 * 1000;

int Scan(std::span<PollItem> items) {
  int n = 0;
  for (PollItem& it : items) {
    if (it.file) it.revents = it.file->Readiness(it.mask) & it.mask;
    if (it.revents) n++;
  }
  return n;
}

}  // namespace

void HostFdSet::Add(int fd, uint32_t events) {
  events &= kHostEvents;
  for (auto& [f, ev] : fds_) {
    if (f == fd) {
      ev |= events;
      return;
    }
  }
  fds_.emplace_back(fd, events);
}

ErrnoOr<std::pair<int, short>> HostFdSet::BlockTarget() {
  if (fds_.size() == 1) return std::pair<int, short>(fds_[0].first, static_cast<short>(fds_[0].second));
  if (!ep_.ok()) {
    ep_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!ep_.ok()) return Errno::FromHost();
    for (const auto& [fd, events] : fds_) {
      struct epoll_event ev {};
      ev.events = events;  // level-triggered: ready stays visible
      // EPERM: a host file that cannot be polled is always ready, and
      // Readiness() already says so; nothing to wait for.
      (void)epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
    }
  }
  return std::pair<int, short>(ep_.get(), static_cast<short>(POLLIN));
}

ErrnoOr<int> WaitForReadiness(Task& t, std::span<PollItem> items, int64_t deadline_ns) {
  int n = Scan(items);
  if (n > 0 || deadline_ns == 0) return n;

  Waiter& w = t.waiter();
  w.Clear();
  HostFdSet hosts;
  for (PollItem& it : items) {
    if (!it.file) continue;
    it.file->EventRegister(&w, it.mask);
    int hfd = it.file->HostFdForPoll();
    if (hfd >= 0) hosts.Add(hfd, it.mask);
  }
  int block_fd = -1;
  short block_events = 0;
  bool sliced = false;  // host fds we cannot sleep on: re-check often
  if (!hosts.empty()) {
    auto target = hosts.BlockTarget();
    if (target.ok()) {
      std::tie(block_fd, block_events) = *target;
    } else {
      sliced = true;
    }
  }

  ErrnoOr<int> result = 0;
  for (;;) {
    n = Scan(items);
    if (n > 0) {
      result = n;
      break;
    }
    int64_t until = deadline_ns;
    if (sliced) {
      int64_t slice = MonotonicNowNs() + kFallbackSliceNs;
      until = until < 0 ? slice : std::min(until, slice);
    }
    Errno e = t.Block(until, block_fd, block_events);
    if (e == Errno(ETIMEDOUT) && until != deadline_ns) continue;  // a slice ended
    if (e == Errno(EINTR) || e == Errno(ETIMEDOUT)) {
      // A last look, as do_poll: what is ready now still counts.
      n = Scan(items);
      result = n > 0 ? ErrnoOr<int>(n) : (e == Errno(EINTR) ? ErrnoOr<int>(Errno(EINTR)) : ErrnoOr<int>(0));
      break;
    }
    w.Clear();
  }
  for (PollItem& it : items) {
    if (it.file) it.file->EventUnregister(&w);
  }
  return result;
}

}  // namespace palisade::sys
