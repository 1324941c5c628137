// Declarations of the socket syscall handlers (sys_socket.cc,
// sys_socket_msg.cc). The table (table_x86_64.cc) is the only user.
#pragma once

#include "sentry/syscalls/syscall.h"

namespace palisade::sys {

#define PAL_HANDLER(name) SyscallResult name(Task& t, const SyscallArgs& a)

// sys_socket.cc: creation, naming, connections, options
PAL_HANDLER(Socket); PAL_HANDLER(Socketpair); PAL_HANDLER(Bind); PAL_HANDLER(Listen);
PAL_HANDLER(Accept); PAL_HANDLER(Accept4); PAL_HANDLER(Connect); PAL_HANDLER(Shutdown);
PAL_HANDLER(Getsockname); PAL_HANDLER(Getpeername); PAL_HANDLER(Getsockopt); PAL_HANDLER(Setsockopt);
// sys_socket_msg.cc: data transfer
PAL_HANDLER(Sendto); PAL_HANDLER(Recvfrom); PAL_HANDLER(Sendmsg); PAL_HANDLER(Recvmsg);
PAL_HANDLER(Sendmmsg); PAL_HANDLER(Recvmmsg);

#undef PAL_HANDLER

}  // namespace palisade::sys
