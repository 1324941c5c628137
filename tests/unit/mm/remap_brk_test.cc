// brk, mremap and MAP_GROWSDOWN stack growth: VMAs that change size or
// place while keeping their bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

constexpr uint64_t kHeap = 0x600000;

size_t Lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

TEST_F(MmTest, BrkGrowsAndShrinksTheHeap) {
  mm_->SetBrkBase(kHeap);
  EXPECT_EQ(mm_->Brk(0), kHeap);
  EXPECT_EQ(mm_->Brk(kHeap + 100), kHeap + 100);  // not page aligned: kept as given
  Put(kHeap + 99, 1);
  EXPECT_EQ(Get(kHeap + kPage), -1);  // rounded up to one page only
  EXPECT_EQ(mm_->Brk(kHeap + 5 * kPage), kHeap + 5 * kPage);
  Put(kHeap + 5 * kPage - 1, 2);
  EXPECT_EQ(Get(kHeap + 99), 1);
  EXPECT_NE(mm_->ProcMaps().find("[heap]"), std::string::npos);
  EXPECT_EQ(Lines(mm_->ProcMaps()), 1u);
  // Shrink: the released pages are gone (and come back as zeros).
  EXPECT_EQ(mm_->Brk(kHeap + kPage), kHeap + kPage);
  EXPECT_EQ(Get(kHeap + 2 * kPage), -1);
  EXPECT_EQ(mm_->Brk(kHeap + 5 * kPage), kHeap + 5 * kPage);
  EXPECT_EQ(Get(kHeap + 5 * kPage - 1), 0);
  EXPECT_EQ(Get(kHeap + 99), 1);
}

TEST_F(MmTest, BrkGrowsInPlaceWithoutNewMappings) {
  mm_->SetBrkBase(kHeap);
  uint64_t before = mf_->allocated();
  for (int i = 1; i <= 64; ++i) ASSERT_EQ(mm_->Brk(kHeap + i * 33 * kPage), kHeap + i * 33 * kPage);
  uint64_t once = mf_->allocated() - before;
  // Repeated shrink/grow cycles (malloc trimming) reuse the same backing.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(mm_->Brk(kHeap + kPage), kHeap + kPage);
    ASSERT_EQ(mm_->Brk(kHeap + 64 * 33 * kPage), kHeap + 64 * 33 * kPage);
  }
  EXPECT_EQ(mf_->allocated() - before, once);
  EXPECT_EQ(Lines(mm_->ProcMaps()), 1u);
  // Past the spare room, a second VMA continues the heap (one maps line).
  ASSERT_EQ(mm_->Brk(kHeap + (64ull << 20)), kHeap + (64ull << 20));
  Put(kHeap + (64ull << 20) - 1, 3);
  EXPECT_EQ(Lines(mm_->ProcMaps()), 1u);
}

TEST_F(MmTest, BrkFailsOnCollisionAndBelowBase) {
  mm_->SetBrkBase(kHeap);
  MapAnon(kPage, kRW, kAnon | MAP_FIXED, kHeap + 4 * kPage);
  EXPECT_EQ(mm_->Brk(kHeap + 8 * kPage), kHeap);  // would overlap: unchanged
  EXPECT_EQ(mm_->Brk(kHeap - kPage), kHeap);
  EXPECT_EQ(mm_->Brk(kHeap + 4 * kPage), kHeap + 4 * kPage);
  EXPECT_EQ(mm_->Brk(~0ull - 10), kHeap + 4 * kPage);
}

TEST_F(MmTest, MremapShrinks) {
  uint64_t a = MapAnon(4 * kPage);
  Put(a, 1);
  ErrnoOr<uint64_t> r = mm_->Mremap(a, 4 * kPage, kPage, 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, a);
  EXPECT_EQ(Get(a), 1);
  EXPECT_EQ(Get(a + kPage), -1);
}

TEST_F(MmTest, MremapGrowsInPlace) {
  uint64_t a = MapAnon(2 * kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  Put(a + kPage, 5);
  ErrnoOr<uint64_t> r = mm_->Mremap(a, 2 * kPage, 6 * kPage, 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, a);
  EXPECT_EQ(Get(a + kPage), 5);
  Put(a + 6 * kPage - 1, 6);
  EXPECT_EQ(AppByte(a + 6 * kPage - 1), 6);
  EXPECT_EQ(mm_->VirtualSize(), 6 * kPage);
  // The grown mapping acts as one: it can be remapped again as a whole.
  r = mm_->Mremap(a, 6 * kPage, 8 * kPage, 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Lines(mm_->ProcMaps()), 1u);
}

TEST_F(MmTest, MremapMovesWhenBlockedAndKeepsData) {
  uint64_t a = MapAnon(2 * kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  MapAnon(kPage, kRW, kAnon | MAP_FIXED, 0x40002000);  // blocks growth
  Put(a, 1);
  Put(a + kPage, 2);
  uint64_t off = as().Lookup(a)->off;
  EXPECT_EQ(mm_->Mremap(a, 2 * kPage, 4 * kPage, 0, 0).error(), Errno(ENOMEM));
  ErrnoOr<uint64_t> r = mm_->Mremap(a, 2 * kPage, 4 * kPage, MREMAP_MAYMOVE, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(*r, a);
  EXPECT_EQ(Get(*r), 1);
  EXPECT_EQ(Get(*r + kPage), 2);
  EXPECT_EQ(Get(*r + 3 * kPage), 0);
  EXPECT_EQ(Get(a), -1);
  EXPECT_EQ(AppByte(a), -1);
  EXPECT_EQ(as().Lookup(*r)->off, off);  // moved, not copied
  EXPECT_EQ(AppByte(*r + kPage), 2);
}

TEST_F(MmTest, MremapFixed) {
  uint64_t a = MapAnon(2 * kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  uint64_t dest = MapAnon(kPage, kRW, kAnon | MAP_FIXED, 0x50000000);
  Put(a, 1);
  Put(dest, 9);
  ErrnoOr<uint64_t> r = mm_->Mremap(a, 2 * kPage, 3 * kPage, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, dest);
  EXPECT_EQ(Get(dest), 1);  // replaced what was there
  EXPECT_EQ(Get(dest + 2 * kPage), 0);
  EXPECT_EQ(Get(a), -1);
  // Shrinking while moving.
  r = mm_->Mremap(dest, 3 * kPage, kPage, MREMAP_MAYMOVE | MREMAP_FIXED, 0x60000000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Get(0x60000000), 1);
  EXPECT_EQ(Get(0x60000000 + kPage), -1);
  EXPECT_EQ(mm_->VirtualSize(), kPage);
}

TEST_F(MmTest, MremapMovesFileMappings) {
  auto data = Pattern(4 * kPage);
  auto f = std::make_shared<FakeFile>(data);
  ErrnoOr<uint64_t> m = mm_->Mmap({.addr = 0x40000000, .len = 2 * kPage, .prot = PROT_READ,
                                   .flags = MAP_PRIVATE | MAP_FIXED, .file = f});
  ASSERT_TRUE(m.ok());
  MapAnon(kPage, kRW, kAnon | MAP_FIXED, 0x40002000);
  ErrnoOr<uint64_t> r = mm_->Mremap(*m, 2 * kPage, 4 * kPage, MREMAP_MAYMOVE, 0);
  ASSERT_TRUE(r.ok());
  // The grown part continues the file.
  EXPECT_EQ(Get(*r + 3 * kPage + 1), data[3 * kPage + 1]);
  EXPECT_EQ(Get(*r + 1), data[1]);
}

// A shared anonymous object keeps its size: what mremap adds lies past its
// end, has no memory and raises SIGBUS (EFAULT for the sentry's copies).
TEST_F(MmTest, MremapGrowingSharedAnonymousMemoryIsPastItsEnd) {
  uint64_t a = MapAnon(kPage, kRW, MAP_SHARED | MAP_ANONYMOUS);
  Put(a, 's');
  auto b = mm_->Mremap(a, kPage, 3 * kPage, MREMAP_MAYMOVE, 0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Get(*b), 's');
  EXPECT_EQ(mm_->HandleFault(*b + kPage), FaultResult::kBusError);
  EXPECT_EQ(AppByte(*b + kPage), -1);
  uint8_t c = 0;
  EXPECT_EQ(mm_->CopyOut(*b + 2 * kPage, &c, 1), Errno(EFAULT));
  std::vector<uint8_t> vec(3);
  ASSERT_TRUE(mm_->Mincore(*b, 3 * kPage, vec).ok());
  EXPECT_EQ(vec[1] | vec[2], 0);
  // It forks, moves, grows again and unmaps like any mapping.
  auto child = mm_->Fork();
  ASSERT_TRUE(child.ok());
  EXPECT_EQ((*child)->HandleFault(*b + kPage), FaultResult::kBusError);
  auto d = mm_->Mremap(*b, 3 * kPage, 4 * kPage, MREMAP_MAYMOVE, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Get(*d), 's');
  EXPECT_EQ(mm_->HandleFault(*d + 3 * kPage), FaultResult::kBusError);
  EXPECT_TRUE(mm_->Munmap(*d, 4 * kPage).ok());
  EXPECT_EQ(mm_->HandleFault(*d + kPage), FaultResult::kBadAddress);
}

TEST_F(MmTest, MremapErrors) {
  uint64_t a = MapAnon(2 * kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  MapAnon(kPage, PROT_READ, kAnon | MAP_FIXED, 0x40002000);
  EXPECT_EQ(mm_->Mremap(a + 1, kPage, 2 * kPage, MREMAP_MAYMOVE, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(a, kPage, 0, MREMAP_MAYMOVE, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(a, kPage, kPage, MREMAP_FIXED, 0x50000000).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(a, kPage, kPage, 0x80, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(a, kPage, kPage, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0).error(),
            Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(0x30000000, kPage, 2 * kPage, MREMAP_MAYMOVE, 0).error(), Errno(EFAULT));
  // Spanning two different mappings.
  EXPECT_EQ(mm_->Mremap(a, 3 * kPage, 4 * kPage, MREMAP_MAYMOVE, 0).error(), Errno(EFAULT));
  // Overlapping fixed destination.
  EXPECT_EQ(mm_->Mremap(a, 2 * kPage, 2 * kPage, MREMAP_MAYMOVE | MREMAP_FIXED, a + kPage).error(),
            Errno(EINVAL));
}

TEST_F(MmTest, StackGrowsDownOnFaultAndCopy) {
  const uint64_t top = 0x7ff000000000;
  ErrnoOr<uint64_t> s = mm_->Mmap({.addr = top - 16 * kPage, .len = 16 * kPage, .prot = kRW,
                                   .flags = kAnon | MAP_FIXED | MAP_GROWSDOWN, .name = "[stack]"});
  ASSERT_TRUE(s.ok());
  Put(*s, 1);
  EXPECT_EQ(mm_->HandleFault(*s - 100), FaultResult::kHandled);
  Put(*s - 100, 2);
  EXPECT_EQ(AppByte(*s - 100), 2);
  // A signal frame written further below also grows it.
  ASSERT_TRUE(mm_->CopyOut(*s - 40 * kPage, "x", 1).ok());
  EXPECT_EQ(Get(*s), 1);
  // Still one VMA (grown inside its backing) and one "[stack]" line.
  std::string maps = mm_->ProcMaps();
  EXPECT_EQ(Lines(maps), 1u);
  EXPECT_NE(maps.find("[stack]"), std::string::npos);
  // Too far below, or with something in the way: a plain bad address.
  EXPECT_EQ(mm_->HandleFault(*s - (200ull << 20)), FaultResult::kBadAddress);
  MapAnon(kPage, kRW, kAnon | MAP_FIXED, *s - (1ull << 20));
  EXPECT_EQ(mm_->HandleFault(*s - (1ull << 20) - kPage), FaultResult::kBadAddress);
}

TEST_F(MmTest, StackGrowsPastItsSpareRoom) {
  const uint64_t top = 0x7ff000000000;
  ErrnoOr<uint64_t> s = mm_->Mmap({.addr = top - kPage, .len = kPage, .prot = kRW,
                                   .flags = kAnon | MAP_FIXED | MAP_GROWSDOWN, .name = "[stack]"});
  ASSERT_TRUE(s.ok());
  uint64_t low = top - (20ull << 20);  // beyond the 8 MiB spare room
  for (uint64_t p = top - kPage - (1 << 20); p >= low; p -= (1 << 20)) {
    ASSERT_EQ(mm_->HandleFault(p), FaultResult::kHandled) << std::hex << p;
  }
  Put(low, 1);
  EXPECT_EQ(AppByte(low), 1);
  EXPECT_EQ(Lines(mm_->ProcMaps()), 1u);
}

}  // namespace
}  // namespace palisade::testing
