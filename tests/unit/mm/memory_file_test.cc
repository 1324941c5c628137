// MemoryFile: the first-fit allocator, coalescing, hole punching and the
// SEEK_DATA walk fork and ResidentSize rely on.
#include "sentry/mm/memory_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <vector>

namespace palisade {
namespace {

constexpr uint64_t kPage = 4096;

std::unique_ptr<MemoryFile> NewFile(uint64_t capacity) {
  auto mf = MemoryFile::Create(capacity);
  EXPECT_TRUE(mf.ok()) << mf.status();
  return std::move(*mf);
}

std::vector<std::pair<uint64_t, uint64_t>> Populated(const MemoryFile& mf, uint64_t off, uint64_t len) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  mf.ForEachPopulated(off, len, [&](uint64_t o, uint64_t n) { out.emplace_back(o, n); });
  return out;
}

TEST(MemoryFileTest, CreateMakesASparseCloexecMemfd) {
  auto mf = NewFile(1ull << 30);
  EXPECT_EQ(mf->capacity(), 1ull << 30);
  EXPECT_GE(mf->fd(), 0);
  EXPECT_TRUE(fcntl(mf->fd(), F_GETFD) & FD_CLOEXEC);
  struct stat st;
  ASSERT_EQ(fstat(mf->fd(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 1ull << 30);
  EXPECT_EQ(st.st_blocks, 0);  // nothing touched, nothing allocated
  EXPECT_TRUE(Populated(*mf, 0, mf->capacity()).empty());
}

TEST(MemoryFileTest, AllocateIsFirstFitAndPageRounded) {
  auto mf = NewFile(64 * kPage);
  EXPECT_EQ(*mf->Allocate(1), 0u);
  EXPECT_EQ(*mf->Allocate(kPage + 1), kPage);
  EXPECT_EQ(*mf->Allocate(kPage), 3 * kPage);
  EXPECT_EQ(mf->allocated(), 4 * kPage);
  EXPECT_EQ(mf->Allocate(0).error(), Errno(EINVAL));
}

TEST(MemoryFileTest, FreeCoalescesNeighbours) {
  auto mf = NewFile(8 * kPage);
  uint64_t a = *mf->Allocate(2 * kPage), b = *mf->Allocate(2 * kPage), c = *mf->Allocate(2 * kPage);
  uint64_t d = *mf->Allocate(2 * kPage);
  EXPECT_EQ(mf->Allocate(kPage).error(), Errno(ENOMEM));  // full
  mf->Free(a, 2 * kPage);
  mf->Free(c, 2 * kPage);
  // Two separate 2-page holes: 4 pages do not fit yet.
  EXPECT_EQ(mf->Allocate(4 * kPage).error(), Errno(ENOMEM));
  mf->Free(b, 2 * kPage);  // joins a and c into one 6-page hole
  EXPECT_EQ(*mf->Allocate(6 * kPage), 0u);
  mf->Free(0, 6 * kPage);
  mf->Free(d, 2 * kPage);
  EXPECT_EQ(mf->allocated(), 0u);
  EXPECT_EQ(*mf->Allocate(8 * kPage), 0u);  // everything coalesced back
}

TEST(MemoryFileTest, FirstFitReusesTheLowestHole) {
  auto mf = NewFile(16 * kPage);
  uint64_t a = *mf->Allocate(kPage);
  (void)*mf->Allocate(kPage);
  uint64_t c = *mf->Allocate(4 * kPage);
  (void)*mf->Allocate(kPage);
  mf->Free(c, 4 * kPage);
  mf->Free(a, kPage);
  EXPECT_EQ(*mf->Allocate(kPage), a);      // the lowest fitting hole
  EXPECT_EQ(*mf->Allocate(2 * kPage), c);  // the next one that fits
}

TEST(MemoryFileTest, FreedAndDecommittedMemoryReadsZero) {
  auto mf = NewFile(16 * kPage);
  uint64_t a = *mf->Allocate(2 * kPage);
  std::memset(mf->Pointer(a), 0xab, 2 * kPage);
  EXPECT_EQ(Populated(*mf, a, 2 * kPage), (std::vector<std::pair<uint64_t, uint64_t>>{{a, 2 * kPage}}));
  mf->Decommit(a + kPage, kPage);
  EXPECT_EQ(Populated(*mf, a, 2 * kPage), (std::vector<std::pair<uint64_t, uint64_t>>{{a, kPage}}));
  EXPECT_EQ(mf->Pointer(a)[0], 0xab);
  // (Reading a hole through a shared mapping of a memfd allocates a page
  // again, so this comes after the SEEK_DATA check.)
  EXPECT_EQ(mf->Pointer(a + kPage)[0], 0);
  mf->Free(a, 2 * kPage);
  uint64_t b = *mf->Allocate(2 * kPage);
  EXPECT_EQ(b, a);
  EXPECT_EQ(mf->Pointer(b)[0], 0);  // Allocate promises zeros
}

TEST(MemoryFileTest, ForEachPopulatedSkipsHolesAndClips) {
  auto mf = NewFile(64 * kPage);
  uint64_t a = *mf->Allocate(16 * kPage);
  mf->Pointer(a + 1 * kPage)[0] = 1;
  mf->Pointer(a + 2 * kPage)[7] = 1;
  mf->Pointer(a + 9 * kPage)[0] = 1;
  using V = std::vector<std::pair<uint64_t, uint64_t>>;
  EXPECT_EQ(Populated(*mf, a, 16 * kPage), (V{{a + kPage, 2 * kPage}, {a + 9 * kPage, kPage}}));
  // Clipped to the asked range on both sides.
  EXPECT_EQ(Populated(*mf, a + 2 * kPage, 8 * kPage), (V{{a + 2 * kPage, kPage}, {a + 9 * kPage, kPage}}));
  EXPECT_TRUE(Populated(*mf, a + 3 * kPage, 6 * kPage).empty());
}

TEST(MemoryFileTest, CapacityIsEnforced) {
  auto mf = NewFile(4 * kPage);
  EXPECT_EQ(mf->Allocate(5 * kPage).error(), Errno(ENOMEM));
  EXPECT_EQ(mf->Allocate(~0ull).error(), Errno(ENOMEM));
  EXPECT_TRUE(mf->Allocate(4 * kPage).ok());
}

}  // namespace
}  // namespace palisade
