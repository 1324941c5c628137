// Microbenchmarks of single system calls and small syscall sequences
// (issue 7). The same binary runs natively, under runc, under runsc and
// inside `palisade run`; scripts/bench compares the times.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "benchmark/benchmark.h"
#include "benchmarks/bench_util.h"

namespace palisade::bench {
namespace {

void BM_NullSyscall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getpid));
}
BENCHMARK(BM_NullSyscall);

void BM_ClockGettime(benchmark::State& state) {
  struct timespec ts;
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockGettime);

void BM_WriteDevNull(benchmark::State& state) {
  int fd = CheckSys(open("/dev/null", O_WRONLY | O_CLOEXEC), "open /dev/null");
  char c = 'x';
  for (auto _ : state) CheckSys(write(fd, &c, 1), "write /dev/null");
  close(fd);
}
BENCHMARK(BM_WriteDevNull);

// A file of the root filesystem (the image's, through the gofer in a
// sandbox) rather than one in tmpfs.
constexpr char kRootfsFile[] = "/etc/passwd";

void BM_OpenClose(benchmark::State& state) {
  for (auto _ : state) close(CheckSys(open(kRootfsFile, O_RDONLY | O_CLOEXEC), "open"));
}
BENCHMARK(BM_OpenClose);

void BM_Stat(benchmark::State& state) {
  struct stat st;
  for (auto _ : state) CheckSys(stat(kRootfsFile, &st), "stat");
}
BENCHMARK(BM_Stat);

void BM_Pread4K(benchmark::State& state) {
  // The C library is large and present in every image this runs in.
  const std::string path = RootfsFileOfAtLeast(64 * 1024);
  int fd = CheckSys(open(path.c_str(), O_RDONLY | O_CLOEXEC), "open");
  char buf[4096];
  for (auto _ : state) {
    if (CheckSys(pread(fd, buf, sizeof(buf), 8192), "pread") != sizeof(buf)) Die("short pread");
  }
  close(fd);
  state.SetBytesProcessed(state.iterations() * sizeof(buf));
}
BENCHMARK(BM_Pread4K);

void BM_TmpfsWrite(benchmark::State& state) {
  const std::string path = TempDir() + "/palisade-bench-write";
  int fd = CheckSys(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), "open tmp file");
  unlink(path.c_str());
  std::string buf(1 << 20, 'w');
  int64_t written = 0;
  for (auto _ : state) {
    if (written >= (64 << 20)) {  // stay within a small tmpfs
      state.PauseTiming();
      CheckSys(ftruncate(fd, 0), "ftruncate");
      CheckSys(lseek(fd, 0, SEEK_SET), "lseek");
      written = 0;
      state.ResumeTiming();
    }
    written += CheckSys(write(fd, buf.data(), buf.size()), "write");
  }
  close(fd);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_TmpfsWrite);

}  // namespace
}  // namespace palisade::bench
