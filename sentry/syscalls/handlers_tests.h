// Handlers added with the broad syscall test suite (helper "tests"):
// scheduling policy calls, rt_tgsigqueueinfo and flock.
#pragma once

#include <memory>

#include "sentry/syscalls/handlers.h"

namespace palisade::sys {

#define PAL_HANDLER(name) SyscallResult name(Task& t, const SyscallArgs& a)

PAL_HANDLER(SchedSetscheduler); PAL_HANDLER(SchedSetparam);
PAL_HANDLER(SchedGetPriorityMax); PAL_HANDLER(SchedGetPriorityMin);
PAL_HANDLER(SchedRrGetInterval); PAL_HANDLER(RtTgsigqueueinfo); PAL_HANDLER(Flock);

#undef PAL_HANDLER

// The thread a sched_* call names: pid 0 is the caller; EINVAL for a
// negative pid, ESRCH for an unknown one. (sys_thread.cc)
ErrnoOr<std::shared_ptr<Task>> SchedTarget(Task& t, int pid);

}  // namespace palisade::sys
