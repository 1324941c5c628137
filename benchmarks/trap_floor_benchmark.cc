// The floor under a systrap round trip, measured natively: the host
// kernel's part of a seccomp SECCOMP_RET_TRAP (raise SIGSYS, write the
// signal frame, run a handler that sets the result, rt_sigreturn), with
// no sentry at all. A trapped syscall in palisade-systrap costs this plus
// the hand-off to the sentry and back (docs/benchmarks.md). Runs in a
// child process: the filter cannot be removed once installed.
//
//   build/benchmarks/trap_floor_benchmark
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>

#include "benchmark/benchmark.h"

namespace {

void SetRaxZero(int, siginfo_t*, void* ucv) {
  static_cast<ucontext_t*>(ucv)->uc_mcontext.gregs[REG_RAX] = 0;
}

// getppid traps; everything else is allowed.
bool TrapGetppid() {
  struct sigaction sa = {};
  sa.sa_sigaction = SetRaxZero;
  sa.sa_flags = SA_SIGINFO;
  if (sigaction(SIGSYS, &sa, nullptr) != 0) return false;
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

void BM_SeccompTrapRoundTrip(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid));
}
BENCHMARK(BM_SeccompTrapRoundTrip);

void BM_PlainSyscall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getpid));
}
BENCHMARK(BM_PlainSyscall);

}  // namespace

int main(int argc, char** argv) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!TrapGetppid()) {
      std::perror("trap_floor_benchmark: installing the seccomp filter");
      _exit(1);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    _exit(0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
