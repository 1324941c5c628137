// Shared set-up for the platform tests (ptrace, and systrap through
// PlatformName()): a 1 MiB memfd playing the
// MemoryFile (also mapped into the test process, to watch and poke app
// memory), the test programs (test_programs_x86_64.S) copied into its first
// page and mapped r-x at kCode, a stack page, and a helper thread class for
// tests that need Contexts on several tracer threads.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/ptrace/context.h"
#include "platform/systrap/context.h"

extern "C" {
extern const char test_programs_begin[], test_programs_end[];
extern const char prog_roundtrip[], prog_load[], prog_store_then_load[], prog_spin_count[];
extern const char prog_int3[], prog_ud2[], prog_div0[], prog_hlt[], prog_jump[], prog_fp[];
extern const char prog_getpid_loop[], prog_vsyscall[], prog_jump_r15[], prog_fs_gs[];
extern const char prog_forge_memops[];
}

namespace palisade::platform::testing {

inline constexpr uint64_t kPage = 4096;
inline constexpr uint64_t kFileSize = 1 << 20;
inline constexpr uint64_t kCode = 0x400000;       // file offset 0
inline constexpr uint64_t kStack = 0x7f0000;      // file offset kPage
inline constexpr uint64_t kData = 0x500000;       // where tests map data
inline constexpr uint64_t kDataOffset = 16 * kPage;  // first free file page

// The host pid of a context's stub, on either platform (a systrap context
// gets its host thread in as's stub process first, if it has none yet).
inline pid_t StubPidOf(Context& c, AddressSpace& as) {
  if (auto* p = dynamic_cast<PtraceContext*>(&c)) return p->stub_pid();
  auto& s = dynamic_cast<SystrapContext&>(c);
  if (s.stub_pid() == 0) (void)s.Prepare(as);
  return s.stub_pid();
}

// Named for the platform it started with; PlatformName() picks another.
class PtraceTest : public ::testing::Test {
 protected:
  virtual std::string PlatformName() const { return "ptrace"; }
  void SetUp() override {
    memfd_ = UniqueFd(memfd_create("palisade-platform-test", MFD_CLOEXEC));
    ASSERT_TRUE(memfd_.ok()) << strerror(errno);
    ASSERT_EQ(ftruncate(memfd_.get(), kFileSize), 0) << strerror(errno);
    void* m = mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_.get(), 0);
    ASSERT_NE(m, MAP_FAILED) << strerror(errno);
    file_ = static_cast<char*>(m);
    const size_t code_size = test_programs_end - test_programs_begin;
    ASSERT_LE(code_size, kPage);
    std::memcpy(file_, test_programs_begin, code_size);
    auto p = Platform::Create(PlatformName(), memfd_.get());
    ASSERT_TRUE(p.ok()) << p.status();
    platform_ = std::move(*p);
    as_ = platform_->NewAddressSpace();
    ASSERT_TRUE(MapStandard(*as_));
  }

  void TearDown() override {
    if (file_ != nullptr) munmap(file_, kFileSize);
  }

  // Code r-x at kCode and a stack page at kStack.
  bool MapStandard(AddressSpace& as) {
    return as.MapFile(kCode, kPage, 0, PROT_READ | PROT_EXEC).ok() &&
           as.MapFile(kStack, kPage, kPage, PROT_READ | PROT_WRITE).ok();
  }

  static uint64_t Prog(const char* label) { return kCode + (label - test_programs_begin); }
  static Registers Regs(const char* label) { return InitialRegisters(Prog(label), kStack + kPage); }

  uint64_t& FileWord(uint64_t offset) { return *reinterpret_cast<uint64_t*>(file_ + offset); }

  UniqueFd memfd_;
  char* file_ = nullptr;
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<AddressSpace> as_;
};

// A thread that runs closures one at a time, so a test can keep a Context
// on it (its tracer) and drive it in steps interleaved with other threads.
class TracerThread {
 public:
  TracerThread() : thread_([this] { Loop(); }) {}
  ~TracerThread() {
    Run([this] { stop_ = true; });
    thread_.join();
  }
  // Runs fn on the thread and waits for it.
  void Run(std::function<void()> fn) {
    std::unique_lock<std::mutex> l(mu_);
    job_ = std::move(fn);
    cv_.notify_all();
    cv_.wait(l, [this] { return !job_; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      cv_.wait(l, [this] { return static_cast<bool>(job_); });
      job_();
      job_ = nullptr;
      cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace palisade::platform::testing
