// Cost of a platform's hot paths (PALISADE_PLATFORM=ptrace|systrap,
// default ptrace): one trapped app syscall through
// Switch() (the figure runsc's ptrace platform is compared on, ~50 us),
// and a syscall whose Switch must first inject an mmap into the stub.
//
//   PALISADE_PLATFORM=systrap platform_ptrace_benchmark --benchmark_min_time=2
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <cstdlib>

#include "base/unique_fd.h"
#include "benchmark/benchmark.h"
#include "platform/platform.h"

extern "C" {
extern const char test_programs_begin[], test_programs_end[], prog_getpid_loop[];
}

namespace palisade::platform {
namespace {

constexpr uint64_t kPage = 4096, kCode = 0x400000, kData = 0x500000;

struct Setup {
  Setup() {
    memfd = UniqueFd(memfd_create("platform-bench", MFD_CLOEXEC));
    if (!memfd.ok() || ftruncate(memfd.get(), 1 << 20) != 0) std::abort();
    if (pwrite(memfd.get(), test_programs_begin, test_programs_end - test_programs_begin, 0) < 0) {
      std::abort();
    }
    const char* name = getenv("PALISADE_PLATFORM");
    auto p = Platform::Create(name != nullptr ? name : "ptrace", memfd.get());
    if (!p.ok()) std::abort();
    platform = std::move(*p);
    as = platform->NewAddressSpace();
    if (!as->MapFile(kCode, kPage, 0, PROT_READ | PROT_EXEC).ok()) std::abort();
    auto c = platform->NewContext();  // this (the benchmark) thread traces it
    if (!c.ok()) std::abort();
    ctx = std::move(*c);
    regs = InitialRegisters(kCode + (prog_getpid_loop - test_programs_begin), 0);
  }
  UniqueFd memfd;
  std::unique_ptr<Platform> platform;
  std::unique_ptr<AddressSpace> as;
  std::unique_ptr<Context> ctx;
  Registers regs;
};

void BM_TrappedSyscall(benchmark::State& state) {
  Setup s;
  for (auto _ : state) {
    if (s.ctx->Switch(*s.as, s.regs).kind != EventKind::kSyscall) {
      state.SkipWithError("unexpected event");
      break;
    }
    s.regs.rax = 0;
  }
}
BENCHMARK(BM_TrappedSyscall);

void BM_TrappedSyscallAfterMapFile(benchmark::State& state) {
  Setup s;
  uint64_t off = kPage;
  for (auto _ : state) {
    off = off == kPage ? 2 * kPage : kPage;  // a real change every time
    if (!s.as->MapFile(kData, kPage, off, PROT_READ).ok() ||
        s.ctx->Switch(*s.as, s.regs).kind != EventKind::kSyscall) {
      state.SkipWithError("unexpected result");
      break;
    }
  }
}
BENCHMARK(BM_TrappedSyscallAfterMapFile);

// A new thread of an existing address space, up to its first syscall and
// gone again: on ptrace a new stub process, on systrap a host thread of
// the address space's process.
void BM_NewContext(benchmark::State& state) {
  Setup s;
  if (s.ctx->Switch(*s.as, s.regs).kind != EventKind::kSyscall) std::abort();  // the process exists
  for (auto _ : state) {
    auto c = s.platform->NewContext();
    Registers r = s.regs;
    if (!c.ok() || (*c)->Switch(*s.as, r).kind != EventKind::kSyscall) {
      state.SkipWithError("NewContext failed");
      break;
    }
  }
}
BENCHMARK(BM_NewContext);

void BM_HostGetpid(benchmark::State& state) {  // reference: a native syscall
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getpid));
}
BENCHMARK(BM_HostGetpid);

}  // namespace
}  // namespace palisade::platform

BENCHMARK_MAIN();
