// fstat(2) of a host fd for code that runs under the sentry's seccomp
// filter. glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH), which the
// filter must trap (it cannot tell an empty path from a host path), so
// each call would cost a SIGSYS round trip in the sentry
// (sentry/seccomp/sentry_filter.cc). The fstat syscall itself is allowed.
//
//   struct stat st;
//   if (HostFstat(fd, &st) != 0) return Errno::FromHost();
#pragma once

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace palisade {

// As fstat(2): 0, or -1 with errno set.
inline int HostFstat(int fd, struct stat* st) { return static_cast<int>(syscall(SYS_fstat, fd, st)); }

}  // namespace palisade
