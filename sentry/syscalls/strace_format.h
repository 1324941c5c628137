// --strace output: a syscall and its result, decoded like strace(1) does,
// driven by the argument kinds of each row of the syscall table
// (SyscallEntry::args). Every kind is a row of a table in strace_format.cc:
//
//   fd dirfd int size hex ptr mode   numbers as such (dirfd: AT_FDCWD)
//   path str                         the string, quoted
//   inbuf / outbuf                   up to 32 bytes of the buffer (outbuf
//                                    after the call, when it succeeded)
//   argv                             the first 8 strings of a vector
//   oflags atflags prot mflags       flag sets (O_RDONLY|O_CLOEXEC)
//   cloneflags                       CLONE_* plus the exit signal
//   signal                           SIGTERM
//   sigset                           [INT TERM] (a sigset_t in memory)
//   timespec                         {tv_sec=1, tv_nsec=5}
//   stat                             {st_mode=S_IFREG|0644, st_size=42, ...}
//                                    after a successful call
//   whence                           SEEK_SET / SEEK_CUR / ...
//   accessmode                       F_OK or R_OK|W_OK|X_OK
//   fcntlcmd                         F_GETFL ...
//   ioctlreq                         TCGETS ... (ioctl_names.h)
//   sockaddr                         {sa_family=AF_UNIX, sun_path="/x"}
//                                    (its length is the next argument)
//
//   spdlog::info("{} = {}", FormatSyscall(t, e, a, r, true), FormatResult(r));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sentry/syscalls/syscall.h"
#include "sentry/syscalls/syscall_table.h"

namespace palisade {

// "[tgid:tid] name(arg, ...)". after: the call has returned `result`, so
// output arguments can be shown. e may be null (unknown number).
std::string FormatSyscall(Task& t, const SyscallEntry* e, const SyscallArgs& a, int64_t result, bool after);

// "3", "0x7f00...", or "-1 ENOENT".
std::string FormatResult(int64_t result);

// One argument of the given kind; exposed for tests. len is the argument
// after it (the byte count of a buffer or a sockaddr).
std::string FormatArg(Task& t, std::string_view kind, uint64_t v, int64_t result, bool after, uint64_t len);

// Only the value-decoding kinds that need no memory (flags, signal, whence,
// ...); nullopt-like empty string for kinds that read memory. For tests.
std::string FormatScalarArg(std::string_view kind, uint64_t v);

}  // namespace palisade
