// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
// epoll_pwait2 (epoll(7)). The instance and its readiness rules are
// EpollInstance (sentry/fsimpl/anon/epoll.h); this file checks arguments
// in Linux's order and copies events out. An interrupted wait returns
// EINTR, never a restart: epoll_wait is not restarted even under
// SA_RESTART (signal(7)).
#include <sys/epoll.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "sentry/fsimpl/anon/epoll.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/sys_poll_common.h"

namespace palisade::sys {
namespace {

// EP_MAX_EVENTS: the most events one call may ask for.
constexpr int kMaxEvents = INT_MAX / sizeof(struct epoll_event);
// The top of the user address range (x86-64, 4-level paging): access_ok.
constexpr uint64_t kUserTop = 0x7ffffffff000ull;
// With EPOLLEXCLUSIVE, only these bits may be set (EPOLLEXCLUSIVE_OK_BITS).
constexpr uint32_t kExclusiveOkBits =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
constexpr int kCapBlockSuspend = 36;  // CAP_BLOCK_SUSPEND

// Character devices whose Linux driver has no poll method, so epoll_ctl
// refuses them with EPERM like regular files: /dev/null, zero, full
// (mem.c) and urandom (random.c; /dev/random has one).
constexpr struct {
  unsigned major, minor;
} kUnpollableDevices[] = {{1, 3}, {1, 5}, {1, 7}, {1, 9}};

// file_can_poll(): regular files and directories have no poll method.
bool CanPoll(Task& t, FileDescription& f) {
  auto st = f.Stat(t);
  if (!st.ok()) return true;  // cannot tell; let readiness speak
  if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) return false;
  if (S_ISCHR(st->st_mode)) {
    for (const auto& d : kUnpollableDevices) {
      if (major(st->st_rdev) == d.major && minor(st->st_rdev) == d.minor) return false;
    }
  }
  return true;
}

SyscallResult NewEpoll(Task& t, int flags) {
  PAL_TRY(std::shared_ptr<EpollInstance> ep, EpollInstance::Create(flags));
  uint64_t limit = std::min<uint64_t>(NofileLimit(t), INT_MAX);
  PAL_TRY(int fd, t.fds().Add(ep, flags & EPOLL_CLOEXEC, 0, static_cast<int>(limit)));
  return int64_t(fd);
}

ErrnoOr<int> DoEpollWait(Task& t, int epfd, uint64_t events_addr, int maxevents, int64_t deadline_ns) {
  if (maxevents <= 0 || maxevents > kMaxEvents) return Errno(EINVAL);
  uint64_t bytes = static_cast<uint64_t>(maxevents) * sizeof(struct epoll_event);
  if (events_addr > kUserTop || bytes > kUserTop - events_addr) return Errno(EFAULT);
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(epfd));
  auto* ep = dynamic_cast<EpollInstance*>(f.get());
  if (!ep) return Errno(EINVAL);
  // No more events than interests can come back; don't allocate for more.
  size_t cap = std::min<size_t>(maxevents, std::max<size_t>(1, ep->interest_count()));
  std::vector<struct epoll_event> out(cap);
  PAL_TRY(size_t n, ep->Wait(t, out, deadline_ns));
  if (n > 0) PAL_TRY_ERRNO(t.CopyOut(events_addr, out.data(), n * sizeof(struct epoll_event)));
  return static_cast<int>(n);
}

bool Interrupted(const ErrnoOr<int>& r) { return !r.ok() && r.error() == Errno(EINTR); }

}  // namespace

SyscallResult EpollCreate(Task& t, const SyscallArgs& a) {
  if (a[0].Int() <= 0) return Errno(EINVAL);  // size is otherwise ignored
  return NewEpoll(t, 0);
}

SyscallResult EpollCreate1(Task& t, const SyscallArgs& a) {
  int flags = a[0].Int();
  if (flags & ~EPOLL_CLOEXEC) return Errno(EINVAL);
  return NewEpoll(t, flags);
}

SyscallResult EpollCtl(Task& t, const SyscallArgs& a) {
  int epfd = a[0].Int(), op = a[1].Int(), fd = a[2].Int();
  struct epoll_event ev {};
  // Every op but DEL reads the event (DEL accepts NULL, since 2.6.9).
  if (op != EPOLL_CTL_DEL) PAL_TRY_ERRNO(t.CopyInObj(a[3].Ptr(), ev));
  PAL_TRY(FileRef ef, t.fds().GetOrEbadf(epfd));
  PAL_TRY(FileRef tf, t.fds().GetOrEbadf(fd));
  if (!CanPoll(t, *tf)) return Errno(EPERM);
  // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; without it, it is silently dropped.
  if (op != EPOLL_CTL_DEL && !t.creds().HasCap(kCapBlockSuspend)) ev.events &= ~EPOLLWAKEUP;
  auto* ep = dynamic_cast<EpollInstance*>(ef.get());
  if (!ep || ef == tf) return Errno(EINVAL);
  if (op != EPOLL_CTL_DEL && (ev.events & EPOLLEXCLUSIVE)) {
    if (op == EPOLL_CTL_MOD) return Errno(EINVAL);
    if (op == EPOLL_CTL_ADD &&
        (dynamic_cast<EpollInstance*>(tf.get()) || (ev.events & ~kExclusiveOkBits))) {
      return Errno(EINVAL);
    }
  }
  switch (op) {
    case EPOLL_CTL_ADD: PAL_TRY_ERRNO(ep->Add(tf, fd, ev.events, ev.data.u64)); break;
    case EPOLL_CTL_MOD: PAL_TRY_ERRNO(ep->Modify(tf, fd, ev.events, ev.data.u64)); break;
    case EPOLL_CTL_DEL: PAL_TRY_ERRNO(ep->Delete(tf, fd)); break;
    default: return Errno(EINVAL);
  }
  return int64_t(0);
}

SyscallResult EpollWait(Task& t, const SyscallArgs& a) {
  PollTimeout to = TimeoutFromMs(a[3].Int());
  return DoEpollWait(t, a[0].Int(), a[1].Ptr(), a[2].Int(), to.deadline_ns);
}

SyscallResult EpollPwait(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::optional<SigSet> mask, CopyInSigmask(t, a[4].Ptr(), a[5].Size()));
  PollTimeout to = TimeoutFromMs(a[3].Int());
  TempSigmask tm(t, mask);
  ErrnoOr<int> r = DoEpollWait(t, a[0].Int(), a[1].Ptr(), a[2].Int(), to.deadline_ns);
  tm.Finish(Interrupted(r));
  return r;
}

SyscallResult EpollPwait2(Task& t, const SyscallArgs& a) {
  PollTimeout to;
  if (a[3].Ptr()) {
    struct timespec ts;
    PAL_TRY_ERRNO(t.CopyInObj(a[3].Ptr(), ts));
    if (!ValidTimespec(ts)) return Errno(EINVAL);
    to = TimeoutFromTimespec(ts);
  }
  PAL_TRY(std::optional<SigSet> mask, CopyInSigmask(t, a[4].Ptr(), a[5].Size()));
  TempSigmask tm(t, mask);
  ErrnoOr<int> r = DoEpollWait(t, a[0].Int(), a[1].Ptr(), a[2].Int(), to.deadline_ns);
  tm.Finish(Interrupted(r));
  return r;
}

}  // namespace palisade::sys
