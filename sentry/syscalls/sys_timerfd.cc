// timerfd_create, timerfd_settime, timerfd_gettime (timerfd_create(2)).
// The file is TimerFd (sentry/fsimpl/timerfd/timerfd.h); read(2) goes
// through the usual read path and its blocking rules.
#include <linux/capability.h>
#include <sys/timerfd.h>

#include <algorithm>
#include <climits>

#include "sentry/fsimpl/timerfd/timerfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers_fdtypes.h"
#include "sentry/syscalls/sys_poll_common.h"

namespace palisade::sys {
namespace {

// TFD_TIMER_CANCEL_ON_SET is (1 << 1) in the kernel ABI; older glibc
// headers lack it.
constexpr int kCancelOnSet = 1 << 1;

bool ValidItimerspec(const struct itimerspec& v) {
  return ValidTimespec(v.it_value) && ValidTimespec(v.it_interval);
}

ErrnoOr<std::shared_ptr<TimerFd>> GetTimerFd(Task& t, int fd) {
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(fd));
  auto tf = std::dynamic_pointer_cast<TimerFd>(f);
  if (!tf) return Errno(EINVAL);
  return tf;
}

}  // namespace

SyscallResult TimerfdCreate(Task& t, const SyscallArgs& a) {
  int clock = a[0].Int(), flags = a[1].Int();
  if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) return Errno(EINVAL);
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
      break;
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
      // Needs CAP_WAKE_ALARM, which no container is given here; and the
      // sandbox has no suspend to wake from.
      if (!t.creds().HasCap(CAP_WAKE_ALARM)) return Errno(EPERM);
      clock = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
      break;
    default:
      return Errno(EINVAL);
  }
  auto f = TimerFd::Create(t.kernel().timers(), clock, flags);
  int limit = static_cast<int>(std::min<uint64_t>(NofileLimit(t), INT_MAX));
  PAL_TRY(int fd, t.fds().Add(f, flags & TFD_CLOEXEC, 0, limit));
  return int64_t(fd);
}

SyscallResult TimerfdSettime(Task& t, const SyscallArgs& a) {
  // Linux's order: copy-in (EFAULT), flags and values (EINVAL), then the fd.
  int flags = a[1].Int();
  struct itimerspec nv;
  PAL_TRY_ERRNO(t.CopyInObj(a[2].Ptr(), nv));
  if (flags & ~(TFD_TIMER_ABSTIME | kCancelOnSet)) return Errno(EINVAL);
  if (!ValidItimerspec(nv)) return Errno(EINVAL);
  PAL_TRY(auto tf, GetTimerFd(t, a[0].Fd()));
  struct itimerspec old {};
  tf->SetTime(flags, nv, &old);
  if (a[3].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[3].Ptr(), old));
  return int64_t(0);
}

SyscallResult TimerfdGettime(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto tf, GetTimerFd(t, a[0].Fd()));
  struct itimerspec cur = tf->GetTime();
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), cur));
  return int64_t(0);
}

}  // namespace palisade::sys
