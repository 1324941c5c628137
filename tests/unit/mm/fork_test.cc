// Fork: private memory is copied (child and parent diverge), shared memory
// is shared, and the child's address space mirrors the parent's.
#include <gtest/gtest.h>

#include <memory>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

class ForkTest : public MmTest {
 protected:
  std::shared_ptr<MemoryManager> Fork() {
    auto c = mm_->Fork();
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : nullptr;
  }
  static int GetFrom(MemoryManager& mm, uint64_t addr) {
    uint8_t b = 0;
    return mm.CopyIn(addr, &b, 1).ok() ? b : -1;
  }
};

TEST_F(ForkTest, PrivateMemoryIsCopied) {
  uint64_t a = MapAnon(4 * kPage);
  Put(a, 1);
  Put(a + 3 * kPage, 2);
  auto child = Fork();
  EXPECT_EQ(platform_.address_spaces, 2);
  EXPECT_EQ(GetFrom(*child, a), 1);
  EXPECT_EQ(GetFrom(*child, a + 3 * kPage), 2);
  EXPECT_EQ(AppByte(*mf_, *child, a + 3 * kPage), 2);  // mapped in the child's AS
  // Writes on either side stay on that side.
  uint8_t v = 9;
  ASSERT_TRUE(child->CopyOut(a, &v, 1).ok());
  EXPECT_EQ(Get(a), 1);
  Put(a + 3 * kPage, 7);
  EXPECT_EQ(GetFrom(*child, a + 3 * kPage), 2);
  // The child's pages are its own MemoryFile range.
  EXPECT_NE(FakeAddressSpace::Of(*child).Lookup(a)->off, as().Lookup(a)->off);
}

TEST_F(ForkTest, HolesAreNotCopied) {
  uint64_t a = MapAnon(64 * kPage);
  Put(a + 5 * kPage, 1);
  auto child = Fork();
  EXPECT_EQ(child->ResidentSize(), kPage);
  EXPECT_EQ(child->VirtualSize(), 64 * kPage);
}

TEST_F(ForkTest, SharedMemoryIsShared) {
  uint64_t a = MapAnon(2 * kPage, kRW, MAP_SHARED | MAP_ANONYMOUS);
  Put(a, 1);
  auto child = Fork();
  EXPECT_EQ(FakeAddressSpace::Of(*child).Lookup(a)->off, as().Lookup(a)->off);
  uint8_t v = 5;
  ASSERT_TRUE(child->CopyOut(a + kPage, &v, 1).ok());
  EXPECT_EQ(Get(a + kPage), 5);
  Put(a, 6);
  EXPECT_EQ(GetFrom(*child, a), 6);
  // Unmapping in the parent leaves the child's view intact.
  ASSERT_TRUE(mm_->Munmap(a, 2 * kPage).ok());
  EXPECT_EQ(GetFrom(*child, a), 6);
  EXPECT_EQ(AppByte(*mf_, *child, a + kPage), 5);
}

TEST_F(ForkTest, SplitVmasShareOneChildBacking) {
  uint64_t a = MapAnon(3 * kPage);
  ASSERT_TRUE(mm_->Mprotect(a + kPage, kPage, PROT_READ).ok());
  auto child = Fork();
  auto& cas = FakeAddressSpace::Of(*child);
  EXPECT_EQ(cas.Lookup(a + 2 * kPage)->off, cas.Lookup(a)->off + 2 * kPage);
  EXPECT_EQ(cas.Lookup(a + kPage)->prot, PROT_READ);
  // So the child can merge them back, as the parent could.
  ASSERT_TRUE(child->Mprotect(a + kPage, kPage, kRW).ok());
  std::string maps = child->ProcMaps();
  EXPECT_EQ(std::count(maps.begin(), maps.end(), '\n'), 1);
}

TEST_F(ForkTest, PrivateFilePagesAreCopiedWithTheirState) {
  auto data = Pattern(2 * (64 << 10));
  auto f = std::make_shared<FakeFile>(data);
  ErrnoOr<uint64_t> r = mm_->Mmap({.len = data.size(), .prot = kRW, .flags = MAP_PRIVATE, .file = f});
  ASSERT_TRUE(r.ok());
  uint64_t a = *r;
  Put(a + 1, 0xee);  // populates (and privately changes) the first chunk
  auto child = Fork();
  EXPECT_EQ(f->reads, 1);
  EXPECT_EQ(GetFrom(*child, a + 1), 0xee);
  EXPECT_EQ(GetFrom(*child, a + 2), data[2]);
  EXPECT_EQ(AppByte(*mf_, *child, a + 1), 0xee);  // already mapped in the child
  EXPECT_EQ(f->reads, 1);
  // The second chunk was never read: the child reads it on its own.
  EXPECT_EQ(child->HandleFault(a + (64 << 10)), FaultResult::kHandled);
  EXPECT_EQ(f->reads, 2);
  EXPECT_EQ(AppByte(*mf_, *child, a + (64 << 10)), data[64 << 10]);
}

TEST_F(ForkTest, SharedFilePagesAreNotReadTwice) {
  auto f = std::make_shared<FakeFile>(Pattern(kPage), /*writable=*/true);
  ErrnoOr<uint64_t> r = mm_->Mmap({.len = kPage, .prot = kRW, .flags = MAP_SHARED, .file = f});
  ASSERT_TRUE(r.ok());
  auto child = Fork();
  // The parent populates after the fork; the child then sees the same
  // page (with the parent's write), not a fresh copy of the file.
  Put(*r, 'P');
  EXPECT_EQ(GetFrom(*child, *r), 'P');
  EXPECT_EQ(f->reads, 1);
}

TEST_F(ForkTest, DontForkAndWipeOnFork) {
  uint64_t a = MapAnon(kPage);
  uint64_t b = MapAnon(kPage);
  Put(a, 1);
  Put(b, 2);
  ASSERT_TRUE(mm_->Madvise(a, kPage, MADV_DONTFORK).ok());
  ASSERT_TRUE(mm_->Madvise(b, kPage, MADV_WIPEONFORK).ok());
  auto child = Fork();
  EXPECT_EQ(GetFrom(*child, a), -1);
  EXPECT_EQ(GetFrom(*child, b), 0);
  EXPECT_EQ(Get(b), 2);
  // WIPEONFORK is for private anonymous memory only.
  uint64_t s = MapAnon(kPage, kRW, MAP_SHARED | MAP_ANONYMOUS);
  EXPECT_EQ(mm_->Madvise(s, kPage, MADV_WIPEONFORK), Errno(EINVAL));
}

TEST_F(ForkTest, LayoutAndBrkAreInherited) {
  mm_->SetBrkBase(0x600000);
  uint64_t top = mm_->Brk(0x600000 + 3 * kPage);
  Put(0x600000, 4);
  mm_->set_exe_path("/bin/true");
  mm_->set_auxv("AUXV");
  auto child = Fork();
  EXPECT_EQ(child->Brk(0), top);
  EXPECT_EQ(child->exe_path(), "/bin/true");
  EXPECT_EQ(child->auxv(), "AUXV");
  EXPECT_EQ(child->layout().brk_start, 0x600000u);
  EXPECT_EQ(GetFrom(*child, 0x600000), 4);
  // The child's heap grows on its own.
  EXPECT_EQ(child->Brk(top + kPage), top + kPage);
  EXPECT_EQ(mm_->Brk(0), top);
}

TEST_F(ForkTest, ChildFreesItsCopiesWhenDestroyed) {
  uint64_t a = MapAnon(4 * kPage);
  Put(a, 1);
  uint64_t before = mf_->allocated();
  auto child = Fork();
  EXPECT_GT(mf_->allocated(), before);
  child.reset();
  EXPECT_EQ(mf_->allocated(), before);
}

}  // namespace
}  // namespace palisade::testing
