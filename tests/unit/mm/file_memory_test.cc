// FileMemory (in-memory file data in the MemoryFile) on its own, and
// MAP_SHARED mappings of it: the app sees the file's own pages, coherent
// with Read/Write, across fork, and truncation unmaps what lies past the
// new end (SIGBUS on the next touch).
#include "sentry/mm/file_memory.h"

#include <gtest/gtest.h>
#include <linux/falloc.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

constexpr uint64_t kAt = 0x40000000;

// A MappableFile whose data is a FileMemory, as a tmpfs file.
class ShmFile : public MappableFile {
 public:
  explicit ShmFile(MemoryFile& mf) : fm(mf) {}
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) override { return fm.Read(dst, off); }
  ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off) override {
    int64_t end;
    return fm.Write(src, off, false, &end);
  }
  int64_t Size() override { return fm.Size(); }
  FileMemory* Memory() override { return &fm; }
  std::string Name() const override { return "/shm"; }
  FileMemory fm;
};

class FileMemoryTest : public MmTest {
 protected:
  void Write(const std::string& s, int64_t off) {
    int64_t end;
    ASSERT_TRUE(file_->fm.Write({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, off, false, &end).ok());
  }
  std::string Read(int64_t off, size_t n) {
    std::string s(n, '?');
    auto r = file_->fm.Read({reinterpret_cast<uint8_t*>(s.data()), n}, off);
    EXPECT_TRUE(r.ok());
    s.resize(r.ok() ? *r : 0);
    return s;
  }
  uint64_t MapShared(MemoryManager& mm, uint64_t len, int64_t off = 0) {
    ErrnoOr<uint64_t> a = mm.Mmap({.addr = kAt, .len = len, .prot = kRW, .flags = MAP_SHARED | MAP_FIXED,
                                   .file = file_, .offset = off});
    EXPECT_TRUE(a.ok()) << a.error().Name();
    return a.ok() ? *a : 0;
  }
  void SetUp() override {
    MmTest::SetUp();
    file_ = std::make_shared<ShmFile>(*mf_);
  }
  void TearDown() override {
    mm_.reset();  // before the MemoryFile goes
    file_.reset();
  }
  std::shared_ptr<ShmFile> file_;
};

TEST_F(FileMemoryTest, ReadWriteHolesAndSize) {
  Write("hello", 3 * kPage + 1);
  EXPECT_EQ(file_->fm.Size(), static_cast<int64_t>(3 * kPage + 6));
  EXPECT_EQ(file_->fm.Pages(), 1);
  EXPECT_EQ(Read(0, 4), std::string(4, '\0'));  // a hole
  EXPECT_EQ(Read(3 * kPage, 10), std::string("\0hello", 6));  // short at end of file
  // A write across chunks (64 KiB) lands whole.
  std::string big(200000, 'b');
  Write(big, 60000);
  EXPECT_EQ(Read(60000, big.size()), big);
}

TEST_F(FileMemoryTest, SeekDataHoleAndPunch) {
  Write(std::string(kPage, 'a'), 2 * kPage);
  Write("z", 10 * kPage);
  EXPECT_EQ(*file_->fm.SeekDataOrHole(0, false), static_cast<int64_t>(2 * kPage));
  EXPECT_EQ(*file_->fm.SeekDataOrHole(2 * kPage, true), static_cast<int64_t>(3 * kPage));
  EXPECT_EQ(*file_->fm.SeekDataOrHole(3 * kPage, false), static_cast<int64_t>(10 * kPage));
  EXPECT_EQ(file_->fm.SeekDataOrHole(10 * kPage + 1, false).error(), Errno(ENXIO));
  bool changed;
  ASSERT_TRUE(file_->fm.Allocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * kPage, kPage, &changed).ok());
  EXPECT_EQ(Read(2 * kPage, 2), std::string(2, '\0'));
  EXPECT_EQ(*file_->fm.SeekDataOrHole(0, false), static_cast<int64_t>(10 * kPage));
  EXPECT_EQ(file_->fm.Pages(), 1);
}

TEST_F(FileMemoryTest, TruncateZeroesTheTailAndGrowsWithZeros) {
  Write(std::string(3 * kPage, 'x'), 0);
  ASSERT_TRUE(file_->fm.Truncate(kPage + 10).ok());
  EXPECT_EQ(file_->fm.Pages(), 2);
  ASSERT_TRUE(file_->fm.Truncate(3 * kPage).ok());
  EXPECT_EQ(Read(kPage + 8, 4), std::string("xx\0\0", 4));
  EXPECT_EQ(Read(2 * kPage, 1), std::string(1, '\0'));
}

TEST_F(FileMemoryTest, WriteVGathersAcrossChunks) {
  std::string a(70000, 'a'), b(3, 'b'), c(100000, 'c');
  const struct iovec v[4] = {{a.data(), a.size()}, {nullptr, 0}, {b.data(), b.size()}, {c.data(), c.size()}};
  int64_t end;
  ErrnoOr<int64_t> n = file_->fm.WriteV(v, 5, false, &end);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, static_cast<int64_t>(a.size() + b.size() + c.size()));
  EXPECT_EQ(end, 5 + *n);
  EXPECT_EQ(Read(5, static_cast<size_t>(*n)), a + b + c);
}

// Truncation gives back exactly what the file held: the chunks past the
// end return to the MemoryFile, the partial chunk keeps its head.
TEST_F(FileMemoryTest, TruncateReturnsChunksAndKeepsTheHead) {
  const uint64_t before = mf_->allocated();
  Write(std::string(40 * FileMemory::kChunkSize + 100, 'x'), 0);
  EXPECT_GE(mf_->allocated(), before + 40 * FileMemory::kChunkSize);
  ASSERT_TRUE(file_->fm.Truncate(FileMemory::kChunkSize + 10).ok());
  EXPECT_EQ(mf_->allocated(), before + 2 * FileMemory::kChunkSize);
  EXPECT_EQ(file_->fm.Pages(), FileMemory::kChunkPages + 1);
  EXPECT_EQ(Read(FileMemory::kChunkSize + 8, 4), "xx");
  ASSERT_TRUE(file_->fm.Truncate(0).ok());
  EXPECT_EQ(mf_->allocated(), before);
  EXPECT_EQ(file_->fm.Pages(), 0);
  Write("y", 3 * FileMemory::kChunkSize);  // reused memory reads as zeros
  EXPECT_EQ(Read(0, 3 * FileMemory::kChunkSize + 1), std::string(3 * FileMemory::kChunkSize, '\0') + "y");
}

TEST_F(FileMemoryTest, SharedMappingMapsTheFilesOwnPages) {
  Write(std::string(2 * kPage, 'f'), 0);
  uint64_t a = MapShared(*mm_, 2 * kPage);
  ASSERT_EQ(mm_->HandleFault(a + kPage), FaultResult::kHandled);
  EXPECT_EQ(AppByte(a + kPage), 'f');
  // A write to the file shows through the mapping, with no fault.
  Write("W", kPage);
  EXPECT_EQ(AppByte(a + kPage), 'W');
  // And a store by the app (here through CopyOut) reaches Read().
  Put(a + 5, 'S');
  EXPECT_EQ(Read(5, 1), "S");
}

TEST_F(FileMemoryTest, TruncationUnmapsPastTheEndInEveryMm) {
  Write(std::string(3 * kPage, 'x'), 0);
  uint64_t a = MapShared(*mm_, 3 * kPage);
  ASSERT_EQ(mm_->HandleFault(a), FaultResult::kHandled);
  auto child = mm_->Fork();
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(AppByte(*mf_, **child, a + 2 * kPage), 'x');
  ASSERT_TRUE(file_->fm.Truncate(kPage).ok());
  for (MemoryManager* mm : {mm_.get(), child->get()}) {
    EXPECT_EQ(AppByte(*mf_, *mm, a + kPage), -1) << "unmapped past the new end";
    EXPECT_EQ(mm->HandleFault(a + kPage, SEGV_MAPERR), FaultResult::kBusError);
    EXPECT_EQ(AppByte(*mf_, *mm, a), 'x');
  }
  uint8_t c;
  EXPECT_EQ(mm_->CopyIn(a + kPage, &c, 1), Errno(EFAULT));
  // Grown again: the pages are back, as zeros.
  ASSERT_TRUE(file_->fm.Truncate(3 * kPage).ok());
  EXPECT_EQ((*child)->HandleFault(a + 2 * kPage, SEGV_MAPERR), FaultResult::kHandled);
  EXPECT_EQ(AppByte(*mf_, **child, a + 2 * kPage), 0);
  // A dead mm is simply skipped.
  child->reset();
  ASSERT_TRUE(file_->fm.Truncate(0).ok());
  EXPECT_EQ(mm_->HandleFault(a, SEGV_MAPERR), FaultResult::kBusError);
}

TEST_F(FileMemoryTest, SharedFutexKeyIsTheFilePage) {
  Write(std::string(kPage, 'k'), 0);
  uint64_t a = MapShared(*mm_, kPage);
  auto child = mm_->Fork();
  ASSERT_TRUE(child.ok());
  auto k1 = mm_->SharedOffset(a + 8), k2 = (*child)->SharedOffset(a + 8);
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_EQ(*k1, *k2);
  EXPECT_EQ(*mf_->Pointer(*k1), 'k');
}

TEST_F(FileMemoryTest, PrivateMappingCopies) {
  Write(std::string(kPage, 'o'), 0);
  ErrnoOr<uint64_t> a = mm_->Mmap({.addr = kAt, .len = kPage, .prot = kRW, .flags = MAP_PRIVATE | MAP_FIXED,
                                   .file = file_, .offset = 0});
  ASSERT_TRUE(a.ok());
  Put(*a, 'P');
  EXPECT_EQ(Read(0, 1), "o");
  Write("W", 1);
  EXPECT_EQ(Get(*a), 'P');
}

}  // namespace
}  // namespace palisade::testing
