// Helpers shared by the socket syscall handlers (sys_socket.cc,
// sys_socket_msg.cc): the socket behind an fd, and sockaddr copy-in and
// copy-out with Linux's length rules (move_addr_to_kernel/_user).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/errno.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix_socket_file.h"

namespace palisade::sys {

// EBADF if fd is not open, ENOTSOCK if it is not a socket.
ErrnoOr<std::shared_ptr<net::UnixSocketFile>> GetSocket(Task& t, int fd);

// An address argument: EINVAL if len is negative or larger than
// sockaddr_storage, EFAULT for a bad pointer.
ErrnoOr<std::vector<uint8_t>> CopyInSockaddr(Task& t, uint64_t addr, int64_t len);

// Writes min(*len_addr, raw.size()) bytes to addr and the full length to
// *len_addr. EINVAL for a negative *len_addr, EFAULT.
Errno CopyOutSockaddr(Task& t, const std::string& raw, uint64_t addr, uint64_t len_addr);

// SO_PEERCRED identity of t: thread-group id, effective uid and gid.
struct ucred PeerCredsOf(Task& t);

// The fd limit for new descriptors (RLIMIT_NOFILE).
int FdLimit(Task& t);

}  // namespace palisade::sys
