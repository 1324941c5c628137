// Several threads of one application using one MemoryManager at once
// (CLONE_VM): results stay consistent and nothing races (run under ASan).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

TEST_F(MmTest, ThreadsMapUseAndUnmapConcurrently) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    while (!stop) {
      (void)mm_->ProcMaps();
      (void)mm_->ResidentSize();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> out(16 * kPage, static_cast<uint8_t>(t + 1)), in(16 * kPage);
      for (int i = 0; i < 100; ++i) {
        ErrnoOr<uint64_t> a = mm_->Mmap({.len = 16 * kPage, .prot = kRW, .flags = kAnon});
        if (!a.ok()) { ++failures; continue; }
        bool ok = mm_->CopyOut(*a, out.data(), out.size()).ok() &&
                  mm_->Mprotect(*a, 8 * kPage, PROT_READ).ok() &&
                  mm_->CopyIn(*a, in.data(), in.size()).ok() && in == out &&
                  mm_->CopyOut(*a, out.data(), 1) == Errno(EFAULT) &&
                  mm_->Munmap(*a, 16 * kPage).ok();
        if (!ok) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  stop = true;
  reader.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(mm_->VirtualSize(), 0u);
  EXPECT_EQ(mf_->allocated(), 0u);
}

TEST_F(MmTest, ConcurrentFaultsOnOneFileChunkReadItOnce) {
  auto f = std::make_shared<FakeFile>(Pattern(8 * (64 << 10)));
  ErrnoOr<uint64_t> a = mm_->Mmap({.len = 8 * (64 << 10), .prot = PROT_READ,
                                   .flags = MAP_PRIVATE, .file = f});
  ASSERT_TRUE(a.ok());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      // Threads that lost the race see the page mapped; with the host's
      // SEGV_MAPERR they are told to retry, never SIGSEGV.
      for (uint64_t off = 0; off < 8 * (64 << 10); off += kPage) {
        if (mm_->HandleFault(*a + off, SEGV_MAPERR) != FaultResult::kHandled) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(f->reads, 8);  // one per chunk
}

}  // namespace
}  // namespace palisade::testing
