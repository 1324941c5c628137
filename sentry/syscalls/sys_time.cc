// Clocks, sleeps and interval timers. The sandbox's clocks are the host's
// (CLOCK_MONOTONIC/REALTIME/BOOTTIME pass through); CPU-time clocks are the
// sandbox's own accounting (sentry/kernel/cpu_clock.h, clock_ref.h).
#include <sys/time.h>
#include <time.h>

#include <algorithm>

#include "sentry/kernel/clock_ref.h"
#include "sentry/kernel/cpu_timer_sampler.h"
#include "sentry/kernel/interval_timer.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/loader/vdso.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/time_convert.h"

namespace palisade::sys {
namespace {

constexpr int64_t kNs = 1000000000;

// A host clock the sandbox passes through; CPU clocks are not host clocks.
ErrnoOr<clockid_t> HostClock(int id) {
  switch (id) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM: case CLOCK_TAI:
      return static_cast<clockid_t>(id);
    default:
      return Errno(EINVAL);
  }
}

// Resolves any clock id (host or CPU) for t.
ErrnoOr<ClockRef> Resolve(Task& t, clockid_t id) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  return ResolveClockLocked(t, id);
}

ErrnoOr<int64_t> ReadClock(Task& t, const ClockRef& c) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  return c.NowLocked();
}

// Sleeps until deadline (CLOCK_MONOTONIC ns). On a signal, writes the
// remaining time to rem (if non-zero) and returns EINTR.
SyscallResult SleepUntil(Task& t, int64_t deadline, uint64_t rem_addr) {
  t.waiter().Clear();
  for (;;) {
    Errno e = t.Block(deadline);
    if (e == Errno(ETIMEDOUT)) return int64_t(0);
    if (e == Errno(EINTR)) {
      if (rem_addr) {
        int64_t left = std::max<int64_t>(0, deadline - MonotonicNowNs());
        struct timespec rem = {left / kNs, left % kNs};
        PAL_TRY_ERRNO(t.CopyOutObj(rem_addr, rem));
      }
      return Errno(EINTR);
    }
    t.waiter().Clear();
  }
}

}  // namespace

// The vDSO's view of clock c when it serves c (see Vdso::ReadClockNs), so
// the trapped and untrapped reads of a clock agree; else the host's.
struct timespec SandboxNow(Task& t, clockid_t c) {
  struct timespec ts;
  if (loader::Vdso* v = t.kernel().vdso()) {
    if (int64_t ns = v->ReadClockNs(c); ns >= 0) return NsToTimespec(ns);
  }
  clock_gettime(c, &ts);
  return ts;
}

SyscallResult ClockGettime(Task& t, const SyscallArgs& a) {
  const clockid_t id = a[0].Int();
  struct timespec ts;
  if (IsCpuClockId(id)) {
    PAL_TRY(ClockRef c, Resolve(t, id));
    PAL_TRY(int64_t ns, ReadClock(t, c));
    ts = NsToTimespec(ns);
  } else {
    PAL_TRY(clockid_t c, HostClock(id));
    ts = SandboxNow(t, c);
  }
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), ts));
  return int64_t(0);
}

// The sandbox never sets the host's clocks; like a container without
// CAP_SYS_TIME, setting CLOCK_REALTIME is EPERM. As in Linux, a dynamic CPU
// clock id is EPERM (after it is checked), CLOCK_PROCESS_CPUTIME_ID and
// CLOCK_THREAD_CPUTIME_ID and other clocks are EINVAL.
SyscallResult ClockSettime(Task& t, const SyscallArgs& a) {
  const clockid_t id = a[0].Int();
  if (id < 0) {
    PAL_TRY(ClockRef c, Resolve(t, id));
    (void)c;
    struct timespec ts;
    PAL_TRY_ERRNO(t.CopyInObj(a[1].Ptr(), ts));
    return Errno(EPERM);
  }
  PAL_TRY(clockid_t c, HostClock(id));
  struct timespec ts;
  PAL_TRY_ERRNO(t.CopyInObj(a[1].Ptr(), ts));
  if (c != CLOCK_REALTIME) return Errno(EINVAL);
  if (!ValidTimespec(ts)) return Errno(EINVAL);
  return Errno(EPERM);
}

SyscallResult Settimeofday(Task& t, const SyscallArgs& a) {
  if (a[0].Ptr()) {
    struct timeval tv;
    PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return Errno(EINVAL);
  }
  return Errno(EPERM);
}

SyscallResult ClockGetres(Task& t, const SyscallArgs& a) {
  const clockid_t id = a[0].Int();
  struct timespec ts;
  if (IsCpuClockId(id)) {
    PAL_TRY(ClockRef c, Resolve(t, id));
    (void)c;
    // CPU clocks are read from the host's nanosecond accounting.
    ts = {0, 1};
  } else {
    PAL_TRY(clockid_t c, HostClock(id));
    clock_getres(c, &ts);
  }
  if (a[1].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), ts));
  return int64_t(0);
}

SyscallResult Gettimeofday(Task& t, const SyscallArgs& a) {
  const struct timespec now = SandboxNow(t, CLOCK_REALTIME);
  struct timeval tv = {now.tv_sec, now.tv_nsec / 1000};
  if (a[0].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), tv));
  if (a[1].Ptr()) {
    struct timezone tz {};
    PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), tz));
  }
  return int64_t(0);
}

SyscallResult Time(Task& t, const SyscallArgs& a) {
  int64_t now = SandboxNow(t, CLOCK_REALTIME).tv_sec;
  if (a[0].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), now));
  return now;
}

SyscallResult Nanosleep(Task& t, const SyscallArgs& a) {
  struct timespec ts;
  PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), ts));
  if (!ValidTimespec(ts)) return Errno(EINVAL);
  return SleepUntil(t, MonotonicNowNs() + ts.tv_sec * kNs + ts.tv_nsec, a[1].Ptr());
}

namespace {

// clock_nanosleep on a process CPU clock: sleeps until the clock reaches
// target, re-reading it about when it could first get there (the other
// threads must be running for it to advance).
SyscallResult CpuSleepUntil(Task& t, const ClockRef& c, int64_t target, bool absolute, uint64_t rem_addr) {
  t.waiter().Clear();
  for (;;) {
    int64_t now, rate;
    {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      PAL_TRY(now, c.NowLocked());
      rate = c.RateLocked();
    }
    if (now >= target) return int64_t(0);
    const int64_t wait = std::clamp<int64_t>((target - now) / rate, CpuTimerSampler::kMinTickNs,
                                             CpuTimerSampler::kMaxTickNs);
    Errno e = t.Block(MonotonicNowNs() + wait);
    if (e == Errno(EINTR)) {
      if (absolute) return Errno(kERESTARTNOHAND);
      if (rem_addr) PAL_TRY_ERRNO(t.CopyOutObj(rem_addr, NsToTimespec(target - now)));
      return Errno(EINTR);
    }
    t.waiter().Clear();
  }
}

}  // namespace

SyscallResult ClockNanosleep(Task& t, const SyscallArgs& a) {
  const clockid_t clock = a[0].Int();
  const int flags = a[1].Int();
  if (IsCpuClockId(clock)) {
    // Linux refuses to sleep on a thread's own CPU clock (it cannot
    // advance while the thread sleeps); per-thread clocks in general here.
    if (clock == CLOCK_THREAD_CPUTIME_ID || (clock < 0 && (clock & 4))) return Errno(EINVAL);
    PAL_TRY(ClockRef c, Resolve(t, clock));
    struct timespec ts;
    PAL_TRY_ERRNO(t.CopyInObj(a[2].Ptr(), ts));
    if (!ValidTimespec(ts)) return Errno(EINVAL);
    int64_t target = TimespecToNs(ts);
    if (!(flags & TIMER_ABSTIME)) {
      PAL_TRY(int64_t now, ReadClock(t, c));
      target = target > INT64_MAX - now ? INT64_MAX : now + target;
    }
    return CpuSleepUntil(t, c, target, (flags & TIMER_ABSTIME) != 0, a[3].Ptr());
  }
  PAL_TRY(clockid_t c, HostClock(clock));
  struct timespec ts;
  PAL_TRY_ERRNO(t.CopyInObj(a[2].Ptr(), ts));
  if (!ValidTimespec(ts)) return Errno(EINVAL);
  int64_t ns = ts.tv_sec * kNs + ts.tv_nsec;
  int64_t deadline;
  if (flags & TIMER_ABSTIME) {
    struct timespec now;
    clock_gettime(c, &now);
    deadline = MonotonicNowNs() + (ns - (now.tv_sec * kNs + now.tv_nsec));
    // Absolute sleeps don't report the remaining time.
    SyscallResult r = SleepUntil(t, deadline, 0);
    return r.error() == Errno(EINTR) ? SyscallResult(Errno(kERESTARTNOHAND)) : r;
  }
  deadline = MonotonicNowNs() + ns;
  return SleepUntil(t, deadline, a[3].Ptr());
}

namespace {

void FireItimerReal(Kernel& k, std::weak_ptr<ThreadGroup> wtg, uint64_t id);

void ArmItimerRealLocked(Kernel& k, ThreadGroup& tg, int64_t value_ns, int64_t interval_ns) {
  if (tg.itimer_real_id) k.timers().Cancel(tg.itimer_real_id);
  tg.itimer_real_id = 0;
  tg.itimer_real_deadline_ns = 0;
  tg.itimer_real_interval_ns = interval_ns;
  if (value_ns <= 0) return;
  tg.itimer_real_deadline_ns = MonotonicNowNs() + value_ns;
  std::weak_ptr<ThreadGroup> w = tg.shared_from_this();
  // The id is only known after Schedule(); the callback re-checks it.
  uint64_t id = k.timers().Schedule(tg.itimer_real_deadline_ns, [&k, w] {
    auto tg = w.lock();
    if (tg) FireItimerReal(k, w, 0);
  });
  tg.itimer_real_id = id;
}

void FireItimerReal(Kernel& k, std::weak_ptr<ThreadGroup> wtg, uint64_t) {
  auto tg = wtg.lock();
  if (!tg) return;
  std::lock_guard<std::mutex> l(k.mu());
  if (tg->zombie || !tg->itimer_real_deadline_ns) return;
  TaskOps::SendToGroupLocked(*tg, MakeKillInfo(SIGALRM, SI_KERNEL, 0, 0));
  tg->itimer_real_id = 0;
  int64_t interval = tg->itimer_real_interval_ns;
  ArmItimerRealLocked(k, *tg, interval, interval);
}

struct itimerval Current(ThreadGroup& tg) {
  struct itimerval v {};
  if (tg.itimer_real_deadline_ns) {
    int64_t left = std::max<int64_t>(1000, tg.itimer_real_deadline_ns - MonotonicNowNs());
    v.it_value = {left / kNs, (left % kNs) / 1000};
  }
  v.it_interval = {tg.itimer_real_interval_ns / kNs, (tg.itimer_real_interval_ns % kNs) / 1000};
  return v;
}

}  // namespace

SyscallResult Alarm(Task& t, const SyscallArgs& a) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  ThreadGroup& tg = t.thread_group();
  struct itimerval old = Current(tg);
  ArmItimerRealLocked(t.kernel(), tg, int64_t(a[0].Uint()) * kNs, 0);
  // Remaining seconds, rounded to nearest; never 0 for a pending alarm.
  int64_t secs = old.it_value.tv_sec + (old.it_value.tv_usec >= 500000 ? 1 : 0);
  if (secs == 0 && (old.it_value.tv_usec > 0)) secs = 1;
  return secs;
}

namespace {

// ITIMER_VIRTUAL / ITIMER_PROF: CPU timers of the whole process (user
// time / user + system time), made on first use. REQUIRES: Kernel::mu().
std::shared_ptr<IntervalTimer>& CpuItimerLocked(Task& t, int which) {
  ProcessTimers& timers = t.thread_group().timers;
  auto& slot = which == ITIMER_VIRTUAL ? timers.itimer_virtual : timers.itimer_prof;
  if (!slot) {
    ClockRef clock;
    clock.cpu = true;
    clock.process = t.thread_group_ref();
    clock.kind = which == ITIMER_VIRTUAL ? CpuClockKind::kVirt : CpuClockKind::kProf;
    TimerNotify notify;
    notify.signo = which == ITIMER_VIRTUAL ? SIGVTALRM : SIGPROF;
    notify.code = SI_KERNEL;
    slot = std::make_shared<IntervalTimer>(t.kernel(), t.thread_group_ref(), /*id=*/-1, std::move(clock),
                                           std::move(notify));
  }
  return slot;
}

struct itimerval ToItimerval(const IntervalTimer::Setting& s) {
  struct itimerval v;
  v.it_value = NsToTimeval(s.value_ns);
  v.it_interval = NsToTimeval(s.interval_ns);
  return v;
}

}  // namespace

SyscallResult Setitimer(Task& t, const SyscallArgs& a) {
  int which = a[0].Int();
  if (which != ITIMER_REAL && which != ITIMER_VIRTUAL && which != ITIMER_PROF) return Errno(EINVAL);
  struct itimerval nv {};
  if (a[1].Ptr()) PAL_TRY_ERRNO(t.CopyInObj(a[1].Ptr(), nv));
  auto bad = [](const struct timeval& tv) { return tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000; };
  if (bad(nv.it_value) || bad(nv.it_interval)) return Errno(EINVAL);
  struct itimerval old;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    ThreadGroup& tg = t.thread_group();
    if (which == ITIMER_REAL) {
      old = Current(tg);
      ArmItimerRealLocked(t.kernel(), tg, nv.it_value.tv_sec * kNs + nv.it_value.tv_usec * 1000,
                          nv.it_interval.tv_sec * kNs + nv.it_interval.tv_usec * 1000);
    } else {
      PAL_TRY(IntervalTimer::Setting prev, CpuItimerLocked(t, which)->SetLocked(
                                               false, TimevalToNs(nv.it_value), TimevalToNs(nv.it_interval)));
      old = ToItimerval(prev);
    }
  }
  if (a[2].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[2].Ptr(), old));
  return int64_t(0);
}

SyscallResult Getitimer(Task& t, const SyscallArgs& a) {
  int which = a[0].Int();
  if (which != ITIMER_REAL && which != ITIMER_VIRTUAL && which != ITIMER_PROF) return Errno(EINVAL);
  struct itimerval v {};
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    if (which == ITIMER_REAL) {
      v = Current(t.thread_group());
    } else {
      v = ToItimerval(CpuItimerLocked(t, which)->GetLocked());
    }
  }
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), v));
  return int64_t(0);
}

}  // namespace palisade::sys
