// Handlers of the special file types: timerfd (sys_timerfd.cc), signalfd
// (sys_signalfd.cc) and inotify (sys_inotify.cc). The table
// (table_x86_64.cc) is the only user.
#pragma once

#include "sentry/syscalls/syscall.h"

namespace palisade::sys {

#define PAL_HANDLER(name) SyscallResult name(Task& t, const SyscallArgs& a)

// sys_timerfd.cc
PAL_HANDLER(TimerfdCreate); PAL_HANDLER(TimerfdSettime); PAL_HANDLER(TimerfdGettime);
// sys_signalfd.cc
PAL_HANDLER(Signalfd); PAL_HANDLER(Signalfd4);
// sys_inotify.cc
PAL_HANDLER(InotifyInit); PAL_HANDLER(InotifyInit1); PAL_HANDLER(InotifyAddWatch);
PAL_HANDLER(InotifyRmWatch);

#undef PAL_HANDLER

}  // namespace palisade::sys
