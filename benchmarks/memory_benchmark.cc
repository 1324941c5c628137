// Microbenchmarks of the address space: map, fault in, unmap.
#include <sys/mman.h>
#include <unistd.h>

#include "benchmark/benchmark.h"
#include "benchmarks/bench_util.h"

namespace palisade::bench {
namespace {

constexpr size_t kPage = 4096;

char* MapAnon(size_t len) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) CheckSys(-1, "mmap");
  return static_cast<char*>(p);
}

void Touch(char* p, size_t len) {
  for (size_t off = 0; off < len; off += kPage) p[off] = 1;
  benchmark::ClobberMemory();
}

// mmap 1 MiB, write one byte per page, munmap.
void BM_MmapTouchMunmap1M(benchmark::State& state) {
  constexpr size_t kLen = 1 << 20;
  for (auto _ : state) {
    char* p = MapAnon(kLen);
    Touch(p, kLen);
    CheckSys(munmap(p, kLen), "munmap");
  }
}
BENCHMARK(BM_MmapTouchMunmap1M);

// The cost of one first-touch page fault: 16 MiB are mapped and unmapped
// outside the timed region, each page touched once inside it.
void BM_PageFault(benchmark::State& state) {
  constexpr size_t kLen = 16 << 20;
  char* p = MapAnon(kLen);
  size_t off = 0;
  for (auto _ : state) {
    if (off == kLen) {
      state.PauseTiming();
      CheckSys(munmap(p, kLen), "munmap");
      p = MapAnon(kLen);
      off = 0;
      state.ResumeTiming();
    }
    p[off] = 1;
    off += kPage;
  }
  benchmark::ClobberMemory();
  munmap(p, kLen);
}
BENCHMARK(BM_PageFault);

}  // namespace
}  // namespace palisade::bench
