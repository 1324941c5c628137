// The x86-64 syscall table as data: number, name, handler, support level,
// a note for partial support, and the argument formats --strace decodes.
// The same table produces docs/compatibility.md (`palisade syscalls`).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "sentry/syscalls/syscall.h"

namespace palisade {

enum class SupportLevel { kSupported, kPartial, kUnimplemented };

struct SyscallEntry {
  int nr;
  const char* name;
  SyscallHandler handler;  // null: ENOSYS
  SupportLevel support;
  const char* note;
  // Comma-separated argument kinds for --strace (the list, with what each
  // prints, is in strace_format.h): fd, dirfd, path, str, inbuf, outbuf,
  // size, int, hex, ptr, mode, oflags, atflags, prot, mflags, signal,
  // cloneflags, argv, sigset, timespec, stat, whence, accessmode, fcntlcmd,
  // ioctlreq, sockaddr. Empty: no arguments.
  const char* args;
};

inline constexpr int kMaxSyscall = 512;

// The dense table: index = syscall number, null for unknown numbers.
const std::array<const SyscallEntry*, kMaxSyscall>& SyscallTable();
// Every row, in number order.
const SyscallEntry* SyscallRows(size_t* count);
const SyscallEntry* LookupSyscall(int nr);

class Task;
// Runs the handler for the syscall in t's registers and returns the raw
// result (value or -errno, restart codes included). Logs --strace lines.
int64_t DispatchSyscall(Task& t);

}  // namespace palisade
