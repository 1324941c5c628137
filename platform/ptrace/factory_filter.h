// The seccomp filter of the stub factory (stub_factory.h), inherited by
// every stub it forks. It must allow, and only allow:
//   - what the factory itself does: recvmsg/sendmsg on its socket, fork
//     (clone with exactly SIGCHLD), a pipe per request, pidfd_open, close;
//   - what a stub being born does before the sentry seizes it: signal mask,
//     PR_SET_PDEATHSIG, moving fds (fcntl F_DUPFD, dup2, close_range), pause;
//   - what the sentry injects into a stub while setting it up and syncing
//     its mappings (rseq unregister, no_new_privs, seccomp, mmap of the
//     MemoryFile or the systrap region fd, munmap, rt_sigaction,
//     sigaltstack, rt_sigprocmask, close) and what the stub page runs on
//     its own (futex, arch_prctl, rt_sigreturn).
// Everything else gets SECCOMP_RET_TRAP, not KILL: under systrap the app's
// own syscalls pass through this filter too, and the stub's filter
// answers TRAP to them (the kernel applies the strictest answer of all
// filters, so KILL here would kill the stub instead of trapping). For the
// factory itself, whose signals are blocked, a TRAP is a kill.
#pragma once

#include <linux/filter.h>
#include <seccomp.h>

#include <vector>

#include "absl/status/statusor.h"

namespace palisade::platform {

// The factory's filter as a BPF program, built before the factory forks
// (libseccomp allocates; the forked factory may only make raw syscalls).
absl::StatusOr<std::vector<sock_filter>> BuildFactoryFilter();

// libseccomp's program for ctx, exported as BPF instructions.
absl::StatusOr<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx);

}  // namespace palisade::platform
