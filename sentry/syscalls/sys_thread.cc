// Per-thread and scheduling syscalls: TLS, tid address, robust lists,
// prctl, affinity, priorities, rlimits and resource usage.
#include <asm/prctl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/times.h>

#include <algorithm>
#include <cstring>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/handlers_creds.h"
#include "sentry/syscalls/time_convert.h"
#include "sentry/syscalls/handlers_tests.h"

namespace palisade::sys {

SyscallResult SetTidAddress(Task& t, const SyscallArgs& a) {
  t.internals().clear_child_tid = a[0].Ptr();
  return int64_t(t.tid());
}

SyscallResult SetRobustList(Task& t, const SyscallArgs& a) {
  if (a[1].Size() != 24) return Errno(EINVAL);  // sizeof(struct robust_list_head)
  t.internals().robust_list = a[0].Ptr();
  return int64_t(0);
}

SyscallResult GetRobustList(Task& t, const SyscallArgs& a) {
  int tid = a[0].Int();
  std::shared_ptr<Task> target = tid == 0 ? t.shared_from_this() : t.kernel().TaskByTid(tid);
  if (!target) return Errno(ESRCH);
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), uint64_t(target->internals().robust_list)));
  PAL_TRY_ERRNO(t.CopyOutObj(a[2].Ptr(), uint64_t(24)));
  return int64_t(0);
}

// glibc registers rseq when available and works without it.
SyscallResult Rseq(Task&, const SyscallArgs&) { return Errno(ENOSYS); }

SyscallResult ArchPrctl(Task& t, const SyscallArgs& a) {
  auto& r = t.regs();
  switch (a[0].Int()) {
    case ARCH_SET_FS:
      if (a[1].Ptr() >= t.kernel().platform().MaxUserAddress()) return Errno(EPERM);
      r.fs_base = a[1].Ptr();
      return int64_t(0);
    case ARCH_GET_FS:
      PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), uint64_t(r.fs_base)));
      return int64_t(0);
    case ARCH_SET_GS:
      if (a[1].Ptr() >= t.kernel().platform().MaxUserAddress()) return Errno(EPERM);
      r.gs_base = a[1].Ptr();
      return int64_t(0);
    case ARCH_GET_GS:
      PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), uint64_t(r.gs_base)));
      return int64_t(0);
    default:
      return Errno(EINVAL);
  }
}

SyscallResult Prctl(Task& t, const SyscallArgs& a) {
  int option = a[0].Int();
  switch (option) {
    case PR_SET_NAME: {
      // Copies up to 16 bytes; the name is truncated to 15 characters.
      char buf[16] = {};
      PAL_TRY_ERRNO(t.CopyIn(a[1].Ptr(), buf, sizeof(buf)));
      t.set_comm(std::string(buf, strnlen(buf, 15)));
      return int64_t(0);
    }
    case PR_GET_NAME: {
      char buf[16] = {};
      std::string c = t.comm();
      memcpy(buf, c.data(), std::min<size_t>(c.size(), 15));
      PAL_TRY_ERRNO(t.CopyOut(a[1].Ptr(), buf, sizeof(buf)));
      return int64_t(0);
    }
    case PR_SET_PDEATHSIG: {
      int sig = a[1].Int();
      if (sig < 0 || sig > kNumSignals) return Errno(EINVAL);
      std::lock_guard<std::mutex> l(t.kernel().mu());
      t.thread_group().pdeath_signal = sig;
      return int64_t(0);
    }
    case PR_GET_PDEATHSIG: {
      int sig;
      {
        std::lock_guard<std::mutex> l(t.kernel().mu());
        sig = t.thread_group().pdeath_signal;
      }
      PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), int32_t(sig)));
      return int64_t(0);
    }
    case PR_GET_DUMPABLE: {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      return int64_t(t.thread_group().dumpable ? 1 : 0);
    }
    case PR_SET_DUMPABLE: {
      if (a[1].raw > 1) return Errno(EINVAL);
      std::lock_guard<std::mutex> l(t.kernel().mu());
      t.thread_group().dumpable = a[1].raw == 1;
      return int64_t(0);
    }
    case PR_SET_NO_NEW_PRIVS: {
      if (a[1].raw != 1 || a[2].raw || a[3].raw || a[4].raw) return Errno(EINVAL);
      std::lock_guard<std::mutex> l(t.kernel().mu());
      t.thread_group().no_new_privs = true;
      return int64_t(0);
    }
    case PR_GET_NO_NEW_PRIVS: {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      return int64_t(t.thread_group().no_new_privs ? 1 : 0);
    }
    case PR_SET_CHILD_SUBREAPER: {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      t.thread_group().child_subreaper = a[1].raw != 0;
      return int64_t(0);
    }
    case PR_SET_TIMERSLACK:
      return int64_t(0);  // accepted
    case PR_GET_CHILD_SUBREAPER: {
      int32_t v;
      {
        std::lock_guard<std::mutex> l(t.kernel().mu());
        v = t.thread_group().child_subreaper ? 1 : 0;
      }
      PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), v));
      return int64_t(0);
    }
    default:
      if (auto r = CapabilityPrctl(t, a)) return *r;
      return Errno(EINVAL);
  }
}

SyscallResult SchedYield(Task&, const SyscallArgs&) {
  sched_yield();
  return int64_t(0);
}

// The thread a sched_* call names: 0 is the caller, a negative pid EINVAL.
ErrnoOr<std::shared_ptr<Task>> SchedTarget(Task& t, int pid) {
  if (pid < 0) return Errno(EINVAL);
  if (pid == 0) return t.shared_from_this();
  auto target = t.kernel().TaskByTid(pid);
  if (!target) return Errno(ESRCH);
  return target;
}

SyscallResult SchedGetaffinity(Task& t, const SyscallArgs& a) {
  // The sandbox sees the host's online CPUs (sched_getaffinity of the sentry).
  size_t len = a[1].Size();
  if (len < sizeof(uint64_t) || (len % sizeof(uint64_t))) return Errno(EINVAL);
  PAL_TRY(std::shared_ptr<Task> target, SchedTarget(t, a[0].Int()));
  (void)target;
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  size_t n = std::min(len, sizeof(set));
  PAL_TRY_ERRNO(t.CopyOut(a[2].Ptr(), &set, n));
  return int64_t(n);
}

SyscallResult SchedSetaffinity(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::shared_ptr<Task> target, SchedTarget(t, a[0].Int()));
  (void)target;
  // "EINVAL The affinity bit mask mask contains no processors that are
  // currently physically on the system and permitted to the thread".
  cpu_set_t want, online;
  CPU_ZERO(&want);
  CPU_ZERO(&online);
  PAL_TRY_ERRNO(t.CopyIn(a[2].Ptr(), &want, std::min(a[1].Size(), sizeof(want))));
  sched_getaffinity(0, sizeof(online), &online);
  CPU_AND(&want, &want, &online);
  if (CPU_COUNT(&want) == 0) return Errno(EINVAL);
  return int64_t(0);  // accepted, no effect (documented as partial)
}

namespace {

// getpriority/setpriority's targets: only PRIO_PROCESS names a thread;
// for PRIO_PGRP and PRIO_USER the caller stands for its group or user.
ErrnoOr<std::shared_ptr<Task>> PriorityTarget(Task& t, int which, int who) {
  if (which < PRIO_PROCESS || which > PRIO_USER) return Errno(EINVAL);
  if (which != PRIO_PROCESS || who == 0) return t.shared_from_this();
  auto target = t.kernel().TaskByTid(who);
  if (!target) return Errno(ESRCH);
  return target;
}

}  // namespace

SyscallResult Getpriority(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::shared_ptr<Task> target, PriorityTarget(t, a[0].Int(), a[1].Int()));
  std::lock_guard<std::mutex> l(t.kernel().mu());
  return int64_t(20 - target->internals().nice);  // the kernel's 40-nice encoding
}

SyscallResult Setpriority(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::shared_ptr<Task> target, PriorityTarget(t, a[0].Int(), a[1].Int()));
  int nice = std::clamp(a[2].Int(), -20, 19);
  std::lock_guard<std::mutex> l(t.kernel().mu());
  // Lowering the nice value needs CAP_SYS_NICE (RLIMIT_NICE is not
  // modelled: its default, 0, allows nothing either).
  if (nice < target->internals().nice && !t.creds().HasCap(CAP_SYS_NICE)) return Errno(EACCES);
  target->internals().nice = nice;
  return int64_t(0);
}

SyscallResult SchedGetparam(Task& t, const SyscallArgs& a) {
  if (!a[1].Ptr()) return Errno(EINVAL);
  PAL_TRY(std::shared_ptr<Task> target, SchedTarget(t, a[0].Int()));
  int32_t prio;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    prio = target->internals().sched_priority;
  }
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), prio));
  return int64_t(0);
}

SyscallResult SchedGetscheduler(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::shared_ptr<Task> target, SchedTarget(t, a[0].Int()));
  std::lock_guard<std::mutex> l(t.kernel().mu());
  return int64_t(target->internals().sched_policy);
}

SyscallResult Getrusage(Task& t, const SyscallArgs& a) {
  int who = a[0].Int();
  if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD) return Errno(EINVAL);
  // CPU times are the sandbox's accounting (sentry/kernel/cpu_clock.h);
  // the peak RSS is sampled (at exit, exec and here), not a true high-water mark.
  const int64_t rss_kb = static_cast<int64_t>(t.mm().ResidentSize() / 1024);
  CpuTimes used;
  int64_t maxrss_kb;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    ThreadGroup& tg = t.thread_group();
    if (who == RUSAGE_CHILDREN) {
      used = tg.children_cpu;
      maxrss_kb = tg.children_maxrss_kb;
    } else {
      used = who == RUSAGE_SELF ? ProcessCpuTimesLocked(tg) : t.internals().cpu.Read();
      tg.maxrss_kb = std::max(tg.maxrss_kb, rss_kb);
      maxrss_kb = tg.maxrss_kb;
    }
  }
  struct rusage ru {};
  ru.ru_utime = NsToTimeval(used.user_ns);
  ru.ru_stime = NsToTimeval(used.sys_ns);
  ru.ru_maxrss = static_cast<long>(maxrss_kb);
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), ru));
  return int64_t(0);
}

SyscallResult Times(Task& t, const SyscallArgs& a) {
  constexpr int64_t kNsPerTick = 10000000;  // 100 Hz, the AT_CLKTCK the loader reports
  int64_t ticks = (MonotonicNowNs() - t.kernel().boot_time_mono_ns()) / kNsPerTick;
  if (a[0].Ptr()) {
    CpuTimes self, children;
    {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      self = ProcessCpuTimesLocked(t.thread_group());
      children = t.thread_group().children_cpu;
    }
    struct tms tm {};
    tm.tms_utime = self.user_ns / kNsPerTick;
    tm.tms_stime = self.sys_ns / kNsPerTick;
    tm.tms_cutime = children.user_ns / kNsPerTick;
    tm.tms_cstime = children.sys_ns / kNsPerTick;
    PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), tm));
  }
  return ticks;
}

static SyscallResult DoPrlimit(Task& t, int pid, int resource, uint64_t new_addr, uint64_t old_addr) {
  if (resource < 0 || resource >= RLIM_NLIMITS) return Errno(EINVAL);
  std::shared_ptr<ThreadGroup> tg = t.thread_group_ref();
  if (pid != 0 && pid != t.tgid()) {
    auto target = t.kernel().TaskByTid(pid);
    if (!target) return Errno(ESRCH);
    tg = target->thread_group_ref();
  }
  struct rlimit nl {};
  if (new_addr) {
    PAL_TRY_ERRNO(t.CopyInObj(new_addr, nl));
    if (nl.rlim_cur > nl.rlim_max) return Errno(EINVAL);
  }
  std::lock_guard<std::mutex> l(t.kernel().mu());
  struct rlimit& cur = tg->rlimits[resource];
  struct rlimit old = cur;
  if (new_addr) {
    if (nl.rlim_max > cur.rlim_max && !t.creds().HasCap(CAP_SYS_RESOURCE)) return Errno(EPERM);
    if (resource == RLIMIT_NOFILE && nl.rlim_max > 1024 * 1024) return Errno(EPERM);
    cur = nl;
  }
  if (old_addr) PAL_TRY_ERRNO(t.CopyOutObj(old_addr, old));
  return int64_t(0);
}

SyscallResult Prlimit64(Task& t, const SyscallArgs& a) {
  return DoPrlimit(t, a[0].Int(), a[1].Int(), a[2].Ptr(), a[3].Ptr());
}
SyscallResult Getrlimit(Task& t, const SyscallArgs& a) { return DoPrlimit(t, 0, a[0].Int(), 0, a[1].Ptr()); }
SyscallResult Setrlimit(Task& t, const SyscallArgs& a) { return DoPrlimit(t, 0, a[0].Int(), a[1].Ptr(), 0); }

SyscallResult Getcpu(Task& t, const SyscallArgs& a) {
  unsigned cpu = 0, node = 0;
  getcpu(&cpu, &node);
  if (a[0].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), uint32_t(cpu)));
  if (a[1].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), uint32_t(node)));
  return int64_t(0);
}

}  // namespace palisade::sys
