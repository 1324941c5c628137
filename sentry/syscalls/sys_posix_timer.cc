// POSIX per-process timers: timer_create(2), timer_settime(2),
// timer_gettime(2), timer_getoverrun(2), timer_delete(2). The timers
// themselves are sentry/kernel/interval_timer.h; this file checks the
// arguments the way Linux does and keeps the per-process id table.
#include <linux/capability.h>
#include <signal.h>
#include <time.h>

#include <climits>

#include "sentry/kernel/clock_ref.h"
#include "sentry/kernel/interval_timer.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/handlers_timers.h"
#include "sentry/syscalls/time_convert.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

namespace palisade::sys {
namespace {

// Linux bounds the number of timers by RLIMIT_SIGPENDING (each holds a
// preallocated signal); the sentry also caps it so a process cannot make
// the sentry hold unbounded state.
constexpr size_t kMaxTimersPerProcess = 32768;
constexpr int kMaxSignal = 64;

// The kernel's struct sigevent (64 bytes): value, signo, notify, then a
// union whose first int is the thread id for SIGEV_THREAD_ID.
struct KernelSigevent {
  sigval_t value;
  int32_t signo;
  int32_t notify;
  int32_t tid;
  int32_t pad[11];
};
static_assert(sizeof(KernelSigevent) == 64);

// The clock of a new timer, as clockid_to_kclock() and the k_clocks'
// timer_create allow.
ErrnoOr<ClockRef> TimerClockLocked(Task& t, clockid_t id) {
  switch (id) {
    case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
      return Errno(EOPNOTSUPP);  // clocks without timers
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM: {
      if (!t.creds().HasCap(CAP_WAKE_ALARM)) return Errno(EPERM);
      // There is no suspend in a sandbox: an alarm timer is its base clock.
      ClockRef c;
      c.host = id == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
      return c;
    }
    default:
      return ResolveClockLocked(t, id);
  }
}

// good_sigevent(): which notifications and signals are accepted.
ErrnoOr<TimerNotify> NotifyFromLocked(Task& t, const KernelSigevent& ev) {
  TimerNotify n;
  n.value = ev.value;
  n.signo = ev.signo;
  switch (ev.notify) {
    case SIGEV_SIGNAL | SIGEV_THREAD_ID: {
      auto target = t.kernel().TaskByTidLocked(ev.tid);
      if (!target || &target->thread_group() != &t.thread_group()) return Errno(EINVAL);
      n.thread = target;
      n.how = SIGEV_THREAD_ID;
      break;
    }
    case SIGEV_SIGNAL:
    case SIGEV_THREAD:  // the kernel treats it as SIGEV_SIGNAL (glibc never passes it)
      n.how = SIGEV_SIGNAL;
      break;
    case SIGEV_NONE:
      n.how = SIGEV_NONE;
      return n;
    default:
      return Errno(EINVAL);
  }
  if (n.signo <= 0 || n.signo > kMaxSignal) return Errno(EINVAL);
  return n;
}

std::shared_ptr<IntervalTimer> FindLocked(Task& t, int id) { return t.thread_group().timers.FindLocked(id); }

struct itimerspec ToItimerspec(const IntervalTimer::Setting& s) {
  struct itimerspec v;
  v.it_value = NsToTimespec(s.value_ns);
  v.it_interval = NsToTimespec(s.interval_ns);
  return v;
}

}  // namespace

SyscallResult TimerCreate(Task& t, const SyscallArgs& a) {
  const clockid_t clock_id = a[0].Int();
  const uint64_t sev_addr = a[1].Ptr(), id_addr = a[2].Ptr();
  KernelSigevent ev{};
  if (sev_addr) PAL_TRY_ERRNO(t.CopyInObj(sev_addr, ev));
  Kernel& k = t.kernel();
  int id;
  {
    std::lock_guard<std::mutex> l(k.mu());
    PAL_TRY(ClockRef clock, TimerClockLocked(t, clock_id));
    ProcessTimers& timers = t.thread_group().timers;
    if (timers.posix.size() >= kMaxTimersPerProcess) return Errno(EAGAIN);
    const rlim_t pending_limit = t.thread_group().rlimits[RLIMIT_SIGPENDING].rlim_cur;
    if (pending_limit != RLIM_INFINITY && pending_limit != 0 && timers.posix.size() >= pending_limit) {
      return Errno(EAGAIN);
    }
    do {
      id = timers.next_id;
      timers.next_id = timers.next_id == INT_MAX ? 0 : timers.next_id + 1;
    } while (timers.posix.count(id) != 0);
    TimerNotify notify;
    if (sev_addr) {
      PAL_TRY(notify, NotifyFromLocked(t, ev));
    } else {
      // "as though ... SIGEV_SIGNAL, SIGALRM, sival_int = the timer ID".
      notify.how = SIGEV_SIGNAL;
      notify.signo = SIGALRM;
      notify.value.sival_ptr = nullptr;
      notify.value.sival_int = id;
    }
    timers.posix[id] = std::make_shared<IntervalTimer>(k, t.thread_group_ref(), id, std::move(clock),
                                                       std::move(notify));
  }
  // Copied out after the lock; on a fault the timer is taken back.
  if (Errno e = t.CopyOutObj(id_addr, int32_t{id}); !e.ok()) {
    std::lock_guard<std::mutex> l(k.mu());
    ProcessTimers& timers = t.thread_group().timers;
    if (auto timer = timers.FindLocked(id)) timer->DeleteLocked();
    timers.posix.erase(id);
    return e;
  }
  return int64_t(0);
}

SyscallResult TimerSettime(Task& t, const SyscallArgs& a) {
  const int id = a[0].Int();
  const int flags = a[1].Int();
  if (!a[2].Ptr()) return Errno(EINVAL);
  struct itimerspec nv;
  PAL_TRY_ERRNO(t.CopyInObj(a[2].Ptr(), nv));
  if (!ValidTimespec(nv.it_value) || !ValidTimespec(nv.it_interval)) return Errno(EINVAL);
  IntervalTimer::Setting old;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    auto timer = FindLocked(t, id);
    if (!timer) return Errno(EINVAL);
    PAL_TRY(old, timer->SetLocked((flags & TIMER_ABSTIME) != 0, TimespecToNs(nv.it_value),
                                  TimespecToNs(nv.it_interval)));
  }
  if (a[3].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[3].Ptr(), ToItimerspec(old)));
  return int64_t(0);
}

SyscallResult TimerGettime(Task& t, const SyscallArgs& a) {
  IntervalTimer::Setting cur;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    auto timer = FindLocked(t, a[0].Int());
    if (!timer) return Errno(EINVAL);
    cur = timer->GetLocked();
  }
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), ToItimerspec(cur)));
  return int64_t(0);
}

SyscallResult TimerGetoverrun(Task& t, const SyscallArgs& a) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  auto timer = FindLocked(t, a[0].Int());
  if (!timer) return Errno(EINVAL);
  return int64_t(timer->OverrunLocked());
}

SyscallResult TimerDelete(Task& t, const SyscallArgs& a) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  ProcessTimers& timers = t.thread_group().timers;
  auto timer = timers.FindLocked(a[0].Int());
  if (!timer) return Errno(EINVAL);
  timer->DeleteLocked();
  timers.posix.erase(a[0].Int());
  return int64_t(0);
}

}  // namespace palisade::sys
