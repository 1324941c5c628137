// MemoryManager mmap/munmap/mprotect: placement, MAP_FIXED and friends,
// errors, VMA splitting, and what reaches the platform AddressSpace.
#include <gtest/gtest.h>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

using Call = FakeAddressSpace::Call;
constexpr uint64_t kBase = 0x7b0000000000;

TEST_F(MmTest, AnonymousMappingsGoTopDownFromMmapBase) {
  uint64_t a = MapAnon(2 * kPage);
  uint64_t b = MapAnon(kPage);
  EXPECT_EQ(a, kBase - 2 * kPage);
  EXPECT_EQ(b, a - kPage);
  // Mapped whole and at once, with the requested protection.
  auto calls = as().TakeCalls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[0].map);
  EXPECT_EQ(calls[0].addr, a);
  EXPECT_EQ(calls[0].len, 2 * kPage);
  EXPECT_EQ(calls[0].prot, kRW);
  EXPECT_FALSE(as().misaligned);
}

TEST_F(MmTest, SetMmapBaseMovesPlacement) {
  mm_->set_mmap_base(0x500000000);
  EXPECT_EQ(MapAnon(kPage), 0x500000000 - kPage);
}

TEST_F(MmTest, HintIsHonouredWhenFreeAndIgnoredOtherwise) {
  EXPECT_EQ(MapAnon(kPage, kRW, kAnon, 0x10000000), 0x10000000u);
  // Taken now: the next one goes elsewhere, not over it.
  uint64_t b = MapAnon(kPage, kRW, kAnon, 0x10000000);
  EXPECT_NE(b, 0x10000000u);
  EXPECT_EQ(b, kBase - kPage);
  // An unaligned hint is rounded up.
  EXPECT_EQ(MapAnon(kPage, kRW, kAnon, 0x20000010), 0x20001000u);
}

TEST_F(MmTest, FixedReplacesExistingMappings) {
  uint64_t a = MapAnon(4 * kPage);
  Put(a + kPage, 7);
  ErrnoOr<uint64_t> r = mm_->Mmap({.addr = a + kPage, .len = kPage, .prot = PROT_READ,
                                   .flags = kAnon | MAP_FIXED});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, a + kPage);
  EXPECT_EQ(Get(a + kPage), 0);  // new zero page
  EXPECT_EQ(mm_->CopyOut(a + kPage, "x", 1), Errno(EFAULT));  // read-only now
  EXPECT_EQ(AppByte(a + kPage), 0);
  EXPECT_EQ(as().Lookup(a + kPage)->prot, PROT_READ);
  EXPECT_EQ(as().Lookup(a)->prot, kRW);
}

TEST_F(MmTest, FixedNoReplaceFailsWithEexistOnOverlap) {
  uint64_t a = MapAnon(2 * kPage);
  EXPECT_EQ(mm_->Mmap({.addr = a + kPage, .len = 2 * kPage, .prot = kRW,
                       .flags = kAnon | MAP_FIXED_NOREPLACE}).error(),
            Errno(EEXIST));
  ErrnoOr<uint64_t> r = mm_->Mmap({.addr = a + 2 * kPage, .len = kPage, .prot = kRW,
                                   .flags = kAnon | MAP_FIXED_NOREPLACE});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, a + 2 * kPage);
}

TEST_F(MmTest, MmapErrors) {
  auto err = [&](MmapOptions o) { return mm_->Mmap(o).error(); };
  EXPECT_EQ(err({.len = 0, .prot = kRW, .flags = kAnon}), Errno(EINVAL));
  EXPECT_EQ(err({.len = kPage, .prot = kRW, .flags = MAP_ANONYMOUS}), Errno(EINVAL));  // no type
  EXPECT_EQ(err({.len = kPage, .prot = 0x100, .flags = kAnon}), Errno(EINVAL));
  EXPECT_EQ(err({.addr = 0x10000001, .len = kPage, .prot = kRW, .flags = kAnon | MAP_FIXED}),
            Errno(EINVAL));
  EXPECT_EQ(err({.len = 1ull << 50, .prot = kRW, .flags = kAnon}), Errno(ENOMEM));
  EXPECT_EQ(err({.len = ~0ull, .prot = kRW, .flags = kAnon}), Errno(ENOMEM));
  EXPECT_EQ(err({.addr = 0x1000, .len = kPage, .prot = kRW, .flags = kAnon | MAP_FIXED}),
            Errno(EPERM));  // below MinUserAddress
  EXPECT_EQ(err({.addr = 0x7ffffffff000, .len = kPage, .prot = kRW, .flags = kAnon | MAP_FIXED}),
            Errno(ENOMEM));  // past MaxUserAddress
  EXPECT_EQ(err({.len = kPage, .prot = kRW, .flags = kAnon, .max_prot = PROT_READ}), Errno(EACCES));
  EXPECT_TRUE(as().TakeCalls().empty());
}

TEST_F(MmTest, MemoryFileExhaustionIsEnomem) {
  // 4 GiB MemoryFile: an 8 GiB mapping fits the address space, not the file.
  EXPECT_EQ(mm_->Mmap({.len = 8ull << 30, .prot = kRW, .flags = kAnon}).error(), Errno(ENOMEM));
}

TEST_F(MmTest, Map32BitStaysBelow2GiB) {
  uint64_t a = MapAnon(kPage, kRW, kAnon | MAP_32BIT);
  EXPECT_LE(a + kPage, 1ull << 31);
  EXPECT_GE(a, platform_.MinUserAddress());
}

TEST_F(MmTest, FullLowRangeFallsBackAboveMmapBase) {
  mm_->set_mmap_base(0x20000);  // only 0x10000 bytes below the base
  EXPECT_EQ(MapAnon(0x10000), 0x10000u);
  uint64_t b = MapAnon(kPage);
  EXPECT_GT(b, 0x20000u);
}

TEST_F(MmTest, MunmapMiddleSplitsAndUnmaps) {
  uint64_t a = MapAnon(3 * kPage);
  Put(a, 1);
  Put(a + 2 * kPage, 3);
  as().TakeCalls();
  ASSERT_TRUE(mm_->Munmap(a + kPage, kPage).ok());
  EXPECT_EQ(as().TakeCalls(), (std::vector<Call>{{false, a + kPage, kPage, 0, 0}}));
  EXPECT_EQ(Get(a), 1);
  EXPECT_EQ(Get(a + 2 * kPage), 3);
  EXPECT_EQ(Get(a + kPage), -1);
  EXPECT_EQ(AppByte(a + kPage), -1);
  EXPECT_EQ(AppByte(a + 2 * kPage), 3);
  EXPECT_EQ(mm_->VirtualSize(), 2 * kPage);
  EXPECT_EQ(mm_->HandleFault(a + kPage), FaultResult::kBadAddress);
}

TEST_F(MmTest, MunmapAcrossSeveralMappingsAndHoles) {
  uint64_t a = MapAnon(2 * kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  uint64_t b = MapAnon(2 * kPage, kRW, kAnon | MAP_FIXED, 0x40003000);
  ASSERT_TRUE(mm_->Munmap(a + kPage, 3 * kPage).ok());  // tail of a, hole, head of b
  EXPECT_EQ(mm_->VirtualSize(), 2 * kPage);
  EXPECT_EQ(Get(a), 0);
  EXPECT_EQ(Get(b + kPage), 0);
  EXPECT_EQ(Get(b), -1);
  // Unmapping nothing is fine; bad arguments are not.
  EXPECT_TRUE(mm_->Munmap(0x50000000, kPage).ok());
  EXPECT_EQ(mm_->Munmap(a + 1, kPage), Errno(EINVAL));
  EXPECT_EQ(mm_->Munmap(a, 0), Errno(EINVAL));
  EXPECT_EQ(mm_->Munmap(0x7fff00000000, 1ull << 40), Errno(EINVAL));
}

TEST_F(MmTest, MunmapReleasesMemory) {
  uint64_t before = mf_->allocated();
  uint64_t a = MapAnon(16 * kPage);
  for (uint64_t i = 0; i < 16; ++i) Put(a + i * kPage, 1);
  EXPECT_EQ(mm_->ResidentSize(), 16 * kPage);
  ASSERT_TRUE(mm_->Munmap(a + 4 * kPage, 4 * kPage).ok());  // a split: the backing stays
  EXPECT_EQ(mm_->ResidentSize(), 12 * kPage);                 // but those pages are gone
  ASSERT_TRUE(mm_->Munmap(a, 16 * kPage).ok());
  EXPECT_EQ(mf_->allocated(), before);  // last reference: backing freed
}

TEST_F(MmTest, MprotectSplitsAndRemapsWithNewProtection) {
  uint64_t a = MapAnon(4 * kPage);
  Put(a + kPage, 9);
  as().TakeCalls();
  ASSERT_TRUE(mm_->Mprotect(a + kPage, 2 * kPage, PROT_READ).ok());
  auto calls = as().TakeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].map);
  EXPECT_EQ(calls[0].addr, a + kPage);
  EXPECT_EQ(calls[0].len, 2 * kPage);
  EXPECT_EQ(calls[0].prot, PROT_READ);
  EXPECT_EQ(as().Lookup(a + kPage)->off, as().Lookup(a)->off + kPage);  // same backing
  EXPECT_EQ(AppByte(a + kPage), 9);
  EXPECT_EQ(mm_->CopyOut(a + kPage, "x", 1), Errno(EFAULT));
  EXPECT_TRUE(mm_->CopyOut(a, "x", 1).ok());
  EXPECT_TRUE(mm_->CopyOut(a + 3 * kPage, "x", 1).ok());
  EXPECT_EQ(mm_->HandleFault(a + kPage), FaultResult::kAccessError);
  std::string maps = mm_->ProcMaps();
  EXPECT_EQ(std::count(maps.begin(), maps.end(), '\n'), 3);
  // Back to read-write: the three VMAs merge again into one line.
  ASSERT_TRUE(mm_->Mprotect(a + kPage, 2 * kPage, kRW).ok());
  maps = mm_->ProcMaps();
  EXPECT_EQ(std::count(maps.begin(), maps.end(), '\n'), 1);
}

TEST_F(MmTest, MprotectErrors) {
  uint64_t a = MapAnon(2 * kPage);
  EXPECT_EQ(mm_->Mprotect(a + 1, kPage, PROT_READ), Errno(EINVAL));
  EXPECT_EQ(mm_->Mprotect(a, kPage, 0x40), Errno(EINVAL));
  EXPECT_TRUE(mm_->Mprotect(a, 0, PROT_READ).ok());
  // Runs into a hole: the mapped part changes, then ENOMEM.
  EXPECT_EQ(mm_->Mprotect(a, 3 * kPage, PROT_READ), Errno(ENOMEM));
  EXPECT_EQ(as().Lookup(a + kPage)->prot, PROT_READ);
  EXPECT_EQ(mm_->Mprotect(0x30000000, kPage, PROT_READ), Errno(ENOMEM));
  // PROT_GROWSDOWN only on a growsdown VMA.
  EXPECT_EQ(mm_->Mprotect(a, kPage, PROT_READ | PROT_GROWSDOWN), Errno(EINVAL));
}

TEST_F(MmTest, MprotectRespectsMaxProt) {
  ErrnoOr<uint64_t> a = mm_->Mmap({.len = kPage, .prot = PROT_READ, .flags = kAnon,
                                   .max_prot = PROT_READ});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(mm_->Mprotect(*a, kPage, kRW), Errno(EACCES));
  EXPECT_TRUE(mm_->Mprotect(*a, kPage, PROT_NONE).ok());
}

TEST_F(MmTest, ProtNoneFaultsAreAccessErrors) {
  uint64_t a = MapAnon(kPage, PROT_NONE);
  EXPECT_EQ(mm_->HandleFault(a), FaultResult::kAccessError);
  EXPECT_EQ(mm_->HandleFault(a, SEGV_MAPERR), FaultResult::kAccessError);
  EXPECT_EQ(mm_->HandleFault(a - kPage), FaultResult::kBadAddress);
}

TEST_F(MmTest, MapErrFaultOnMappedPageIsRetried) {
  uint64_t a = MapAnon(kPage);
  as().TakeCalls();
  // Another thread's view may lag: re-map and retry rather than SIGSEGV.
  EXPECT_EQ(mm_->HandleFault(a, SEGV_MAPERR), FaultResult::kHandled);
  EXPECT_EQ(as().TakeCalls().size(), 1u);
  EXPECT_EQ(mm_->HandleFault(a, SEGV_ACCERR), FaultResult::kAccessError);
}

TEST_F(MmTest, FailedPlatformMapUndoesTheMapping) {
  as().fail_maps = true;
  EXPECT_EQ(mm_->Mmap({.len = kPage, .prot = kRW, .flags = kAnon}).error(), Errno(ENOMEM));
  EXPECT_EQ(mm_->VirtualSize(), 0u);
  EXPECT_EQ(mf_->allocated(), 0u);
}

}  // namespace
}  // namespace palisade::testing
