// The host seccomp filter every ptrace stub installs on itself: a syscall
// is allowed only when made from the stub page, i.e. only the syscalls the
// tracer injects; anything else raises SIGSYS (SECCOMP_RET_TRAP).
//
// Why, given that app code always runs under PTRACE_SYSEMU (whose syscall
// stops come before seccomp, so the filter never sees app syscalls):
// - the host's vsyscall page is emulated by the kernel without a ptrace
//   stop but with a seccomp check; the filter turns those calls into a
//   SIGSYS the sentry sees (kSignal) instead of a silent host
//   gettimeofday/time/getcpu;
// - defence in depth: were the app ever resumed by a plain PTRACE_CONT,
//   its syscalls still could not reach the host.
// libseccomp cannot match on the instruction pointer, hence raw BPF.
#pragma once

#include <linux/filter.h>

namespace palisade::platform {

// The filter program, in static storage: a stub forked by the stub factory
// (itself forked from the sentry) has it at the same address, so the tracer can inject seccomp(2) pointing at
// it before the stub unmaps the sentry's memory.
const sock_fprog& StubSeccompProgram();

}  // namespace palisade::platform
