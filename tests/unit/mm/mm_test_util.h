// A gtest fixture for MemoryManager tests: a real MemoryFile (memfd), a
// FakePlatform, one MemoryManager, and helpers to read app memory through
// the fake AddressSpace's model, i.e. as the application would see it.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"
#include "tests/unit/mm/fake_platform.h"

namespace palisade::testing {

constexpr uint64_t kPage = 4096;
constexpr int kRW = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

class MmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = MemoryFile::Create(4ull << 30);
    ASSERT_TRUE(mf.ok()) << mf.status();
    mf_ = std::move(*mf);
    mm_ = std::make_shared<MemoryManager>(*mf_, platform_);
  }

  FakeAddressSpace& as() { return FakeAddressSpace::Of(*mm_); }

  uint64_t MapAnon(uint64_t len, int prot = kRW, int flags = kAnon, uint64_t addr = 0) {
    ErrnoOr<uint64_t> a = mm_->Mmap({.addr = addr, .len = len, .prot = prot, .flags = flags});
    EXPECT_TRUE(a.ok()) << a.error().Name();
    return a.ok() ? *a : 0;
  }

  // The byte at addr as the application sees it through mm's address
  // space, or -1 if nothing is mapped there.
  static int AppByte(MemoryFile& mf, MemoryManager& mm, uint64_t addr) {
    auto seg = FakeAddressSpace::Of(mm).Lookup(addr);
    if (!seg) return -1;
    return *mf.Pointer(seg->off);
  }
  int AppByte(uint64_t addr) { return AppByte(*mf_, *mm_, addr); }

  void Put(uint64_t addr, uint8_t b) { ASSERT_TRUE(mm_->CopyOut(addr, &b, 1).ok()); }
  int Get(uint64_t addr) {
    uint8_t b = 0;
    return mm_->CopyIn(addr, &b, 1).ok() ? b : -1;
  }

  FakePlatform platform_;
  std::unique_ptr<MemoryFile> mf_;
  std::shared_ptr<MemoryManager> mm_;
};

}  // namespace palisade::testing
