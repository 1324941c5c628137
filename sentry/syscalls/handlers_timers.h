// Handlers of POSIX per-process timers (sys_posix_timer.cc). The clock,
// itimer, getrusage/times and wait4 handlers they build on keep their
// declarations in handlers.h. The table (table_x86_64.cc) is the only user.
#pragma once

#include "sentry/syscalls/syscall.h"

namespace palisade::sys {

#define PAL_HANDLER(name) SyscallResult name(Task& t, const SyscallArgs& a)

// sys_posix_timer.cc
PAL_HANDLER(TimerCreate); PAL_HANDLER(TimerSettime); PAL_HANDLER(TimerGettime);
PAL_HANDLER(TimerGetoverrun); PAL_HANDLER(TimerDelete);

#undef PAL_HANDLER

}  // namespace palisade::sys
