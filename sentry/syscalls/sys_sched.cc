// Scheduling policy syscalls: sched_setscheduler(2), sched_setparam(2),
// sched_get_priority_max/min(2) and sched_rr_get_interval(2). The policy
// and priority are recorded per thread and reported back; the host
// schedules the sandbox as it likes (documented as partial).
#include <sched.h>
#include <time.h>

#include <linux/capability.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/syscalls/handlers_tests.h"

namespace palisade::sys {
namespace {

constexpr int kSchedResetOnFork = 0x40000000;  // SCHED_RESET_ON_FORK

bool IsRealtime(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }

bool KnownPolicy(int policy) {
  return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE || IsRealtime(policy);
}

// Sets policy and priority after the checks sched_setscheduler(2) lists.
SyscallResult SetSched(Task& t, int pid, int policy, uint64_t param_addr, bool keep_policy) {
  if (!param_addr || pid < 0) return Errno(EINVAL);
  int32_t prio;
  PAL_TRY_ERRNO(t.CopyInObj(param_addr, prio));
  PAL_TRY(std::shared_ptr<Task> target, SchedTarget(t, pid));
  std::lock_guard<std::mutex> l(t.kernel().mu());
  auto& in = target->internals();
  if (keep_policy) policy = in.sched_policy;
  policy &= ~kSchedResetOnFork;
  if (!KnownPolicy(policy)) return Errno(EINVAL);
  // "EINVAL ... param does not make sense for the specified policy":
  // 1..99 for the real-time policies, 0 for the others.
  if (IsRealtime(policy) ? (prio < 1 || prio > 99) : prio != 0) return Errno(EINVAL);
  if (IsRealtime(policy) && !t.creds().HasCap(CAP_SYS_NICE)) return Errno(EPERM);
  in.sched_policy = policy;
  in.sched_priority = prio;
  return int64_t(0);
}

}  // namespace

SyscallResult SchedSetscheduler(Task& t, const SyscallArgs& a) {
  return SetSched(t, a[0].Int(), a[1].Int(), a[2].Ptr(), false);
}

SyscallResult SchedSetparam(Task& t, const SyscallArgs& a) {
  return SetSched(t, a[0].Int(), 0, a[1].Ptr(), true);
}

SyscallResult SchedGetPriorityMax(Task&, const SyscallArgs& a) {
  int policy = a[0].Int();
  if (!KnownPolicy(policy)) return Errno(EINVAL);
  return int64_t(IsRealtime(policy) ? 99 : 0);
}

SyscallResult SchedGetPriorityMin(Task&, const SyscallArgs& a) {
  int policy = a[0].Int();
  if (!KnownPolicy(policy)) return Errno(EINVAL);
  return int64_t(IsRealtime(policy) ? 1 : 0);
}

SyscallResult SchedRrGetInterval(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::shared_ptr<Task> target, SchedTarget(t, a[0].Int()));
  int policy;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    policy = target->internals().sched_policy;
  }
  // SCHED_FIFO has no time slice (0); report Linux's default RR slice
  // (100 ms) for SCHED_RR and the host's own slice for the others.
  struct timespec ts {0, 0};
  if (policy == SCHED_RR) {
    ts.tv_nsec = 100 * 1000 * 1000;
  } else if (policy != SCHED_FIFO) {
    ::sched_rr_get_interval(0, &ts);
  }
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), ts));
  return int64_t(0);
}

}  // namespace palisade::sys
