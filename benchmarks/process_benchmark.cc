// Microbenchmarks of processes, threads and the wake-ups between them:
// fork, exec, thread create/join, pipe and futex ping-pong.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "benchmark/benchmark.h"
#include "benchmarks/bench_util.h"

namespace palisade::bench {
namespace {

void WaitForExit(pid_t pid) {
  int status = 0;
  CheckSys(waitpid(pid, &status, 0), "waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Die("child did not exit 0");
}

void BM_ForkExitWait(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = CheckSys(fork(), "fork");
    if (pid == 0) _exit(0);
    WaitForExit(pid);
  }
}
BENCHMARK(BM_ForkExitWait)->UseRealTime();

void BM_ForkExecTrue(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = CheckSys(fork(), "fork");
    if (pid == 0) {
      execl("/bin/true", "true", static_cast<char*>(nullptr));
      _exit(127);
    }
    WaitForExit(pid);
  }
}
BENCHMARK(BM_ForkExecTrue)->UseRealTime();

void BM_ThreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) {
    std::thread t([] {});
    t.join();
  }
}
BENCHMARK(BM_ThreadCreateJoin)->UseRealTime();

// One round trip: a byte to the child over one pipe and back over another.
void BM_PipePingPong(benchmark::State& state) {
  int to_child[2], to_parent[2];
  CheckSys(pipe(to_child), "pipe");
  CheckSys(pipe(to_parent), "pipe");
  pid_t pid = CheckSys(fork(), "fork");
  if (pid == 0) {
    // Only the ends it uses, so the parent's close is seen as EOF.
    close(to_child[1]);
    close(to_parent[0]);
    char c;
    while (read(to_child[0], &c, 1) == 1) {
      if (write(to_parent[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  char c = 'p';
  for (auto _ : state) {
    CheckSys(write(to_child[1], &c, 1), "write");
    if (CheckSys(read(to_parent[0], &c, 1), "read") != 1) Die("pipe closed");
  }
  close(to_child[1]);
  close(to_parent[0]);
  WaitForExit(pid);
}
BENCHMARK(BM_PipePingPong)->UseRealTime();

long Futex(std::atomic<int>* addr, int op, int val) {
  return syscall(SYS_futex, reinterpret_cast<int*>(addr), op | FUTEX_PRIVATE_FLAG, val, nullptr, nullptr, 0);
}

// Two threads hand a token back and forth through one futex word:
// 0 = ping's turn, 1 = pong's turn, 2 = stop. One iteration is a round trip.
void BM_FutexPingPong(benchmark::State& state) {
  std::atomic<int> word{0};
  std::thread pong([&] {
    for (;;) {
      int v = word.load();
      if (v == 2) return;
      if (v == 0) {
        Futex(&word, FUTEX_WAIT, 0);
        continue;
      }
      word.store(0);
      Futex(&word, FUTEX_WAKE, 1);
    }
  });
  for (auto _ : state) {
    word.store(1);
    Futex(&word, FUTEX_WAKE, 1);
    while (word.load() == 1) Futex(&word, FUTEX_WAIT, 1);
  }
  word.store(2);
  Futex(&word, FUTEX_WAKE, 1);
  pong.join();
}
BENCHMARK(BM_FutexPingPong)->UseRealTime();

}  // namespace
}  // namespace palisade::bench
