// The host seccomp filter of every systrap stub: the whole security of the
// platform. Application code runs untraced in the stub process, so this
// filter is what keeps its syscalls away from the host kernel.
//
//   - A syscall made from anywhere but the stub code page (the app's own
//     code, the vsyscall page, int $0x80) gets SECCOMP_RET_TRAP: the kernel
//     skips it and raises SIGSYS, which the stub's handler reports to the
//     sentry (the syscall is emulated there).
//   - From the stub page, only what the stub code needs, with arguments
//     pinned where they matter: rt_sigreturn; futex FUTEX_WAIT/FUTEX_WAKE
//     inside the stub's own window (stub page, control page, regions);
//     clone with exactly the thread flags the spawner uses (a thread of
//     the same process, under the same filter); exit (one thread);
//     arch_prctl get/set of fs/gs only for the arch_prctl stub variant
//     (stub_variant.h).
//     mmap (of the MemoryFile fd only) and munmap answer
//     SECCOMP_RET_USER_NOTIF: the sentry, which holds the listener, lets
//     a call run only if it is the next one it expects from the thread it
//     asked to sync; any other (app code jumping here) gets ENOSYS.
//     Anything else from the stub page kills the stub process.
// So an app that jumps into the stub page gets nothing it does not already
// have (see docs/security.md).
//
// The program is two parts: a hand-written BPF prefix that tests the
// instruction pointer, which libseccomp cannot express (its rules only
// compare the syscall number and arguments), followed by the program
// libseccomp generates for the stub page's rules.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "absl/status/statusor.h"

namespace palisade::platform {

// The complete filter, ready for seccomp(SECCOMP_SET_MODE_FILTER).
// allow_arch_prctl: for stubs without FSGSBASE (stub_variant.h).
absl::StatusOr<std::vector<sock_filter>> BuildSystrapFilter(bool allow_arch_prctl);

}  // namespace palisade::platform
