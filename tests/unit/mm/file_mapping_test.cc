// File mappings: on-demand population in 64 KiB chunks, end-of-file rules,
// private copy semantics, MAP_SHARED write-back, and faults.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

using Call = FakeAddressSpace::Call;
constexpr uint64_t kChunk = 64 << 10;
constexpr uint64_t kAt = 0x40000000;  // chunk aligned

class FileMapTest : public MmTest {
 protected:
  uint64_t MapFile(std::shared_ptr<FakeFile> f, uint64_t len, int prot = PROT_READ,
                   int flags = MAP_PRIVATE, int64_t off = 0, uint64_t addr = kAt,
                   int max_prot = PROT_READ | PROT_WRITE | PROT_EXEC) {
    ErrnoOr<uint64_t> a = mm_->Mmap({.addr = addr, .len = len, .prot = prot,
                                     .flags = flags | (addr ? MAP_FIXED : 0), .file = f,
                                     .offset = off, .max_prot = max_prot});
    EXPECT_TRUE(a.ok()) << a.error().Name();
    return a.ok() ? *a : 0;
  }
  std::vector<uint8_t> Read(uint64_t addr, size_t n) {
    std::vector<uint8_t> v(n);
    EXPECT_TRUE(mm_->CopyIn(addr, v.data(), n).ok());
    return v;
  }
};

TEST_F(FileMapTest, NothingIsReadOrMappedAtMmapTime) {
  auto f = std::make_shared<FakeFile>(Pattern(4 * kPage));
  MapFile(f, 4 * kPage);
  EXPECT_EQ(f->reads, 0);
  EXPECT_TRUE(as().TakeCalls().empty());
  EXPECT_EQ(mm_->ResidentSize(), 0u);
}

TEST_F(FileMapTest, CopyInPopulatesWithFileBytesAndZeroTail) {
  auto data = Pattern(10000);  // ends inside the third page
  auto f = std::make_shared<FakeFile>(data);
  uint64_t a = MapFile(f, 4 * kPage);
  auto got = Read(a + 5000, 5000);
  EXPECT_EQ(got, std::vector<uint8_t>(data.begin() + 5000, data.end()));
  // The rest of the last page reads as zeros...
  EXPECT_EQ(Read(a + 10000, 3 * kPage - 10000), std::vector<uint8_t>(3 * kPage - 10000, 0));
  // ...and the page wholly beyond end of file does not exist.
  char c;
  EXPECT_EQ(mm_->CopyIn(a + 3 * kPage, &c, 1), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(a + 3 * kPage - 1, &c, 2), Errno(EFAULT));
  EXPECT_EQ(mm_->HandleFault(a + 3 * kPage), FaultResult::kBusError);
  // Populating also mapped the chunk, clipped to end of file.
  EXPECT_EQ(as().TakeCalls(), (std::vector<Call>{{true, a, 3 * kPage, as().Lookup(a)->off, PROT_READ}}));
  EXPECT_EQ(AppByte(a + 9999), data[9999]);
}

TEST_F(FileMapTest, FaultPopulatesOneChunkAndMapsIt) {
  auto data = Pattern(4 * kChunk);
  auto f = std::make_shared<FakeFile>(data);
  uint64_t a = MapFile(f, 4 * kChunk);
  EXPECT_EQ(mm_->HandleFault(a + kChunk + 1234), FaultResult::kHandled);
  EXPECT_EQ(f->reads, 1);
  auto calls = as().TakeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].addr, a + kChunk);
  EXPECT_EQ(calls[0].len, kChunk);
  EXPECT_EQ(AppByte(a + kChunk + 1234), data[kChunk + 1234]);
  EXPECT_EQ(AppByte(a + 2 * kChunk - 1), data[2 * kChunk - 1]);
  EXPECT_EQ(AppByte(a), -1);  // other chunks untouched
  // Mapped now: another fault there is a protection violation (a write to
  // this read-only mapping), unless the host says it was not mapped.
  EXPECT_EQ(mm_->HandleFault(a + kChunk), FaultResult::kAccessError);
  EXPECT_EQ(mm_->HandleFault(a + kChunk, SEGV_MAPERR), FaultResult::kHandled);
  EXPECT_EQ(f->reads, 1);
}

TEST_F(FileMapTest, ChunksAreClippedToTheVma) {
  auto f = std::make_shared<FakeFile>(Pattern(32 * kPage));
  uint64_t a = MapFile(f, 20 * kPage, PROT_READ, MAP_PRIVATE, 0, kAt + 3 * kPage);
  EXPECT_EQ(mm_->HandleFault(a), FaultResult::kHandled);
  auto calls = as().TakeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].addr, a);
  EXPECT_EQ(calls[0].len, kChunk - 3 * kPage);  // up to the next 64 KiB boundary
  EXPECT_EQ(mm_->HandleFault(a + 19 * kPage), FaultResult::kHandled);
  calls = as().TakeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].addr, kAt + kChunk);
  EXPECT_EQ(calls[0].len, 7 * kPage);  // down to the end of the VMA
}

TEST_F(FileMapTest, FileOffsetIsHonoured) {
  auto data = Pattern(8 * kPage);
  auto f = std::make_shared<FakeFile>(data);
  uint64_t a = MapFile(f, 2 * kPage, PROT_READ, MAP_PRIVATE, 5 * kPage);
  EXPECT_EQ(Read(a, 1)[0], data[5 * kPage]);
  EXPECT_EQ(Read(a + kPage + 7, 1)[0], data[6 * kPage + 7]);
  EXPECT_EQ(mm_->Mmap({.len = kPage, .prot = PROT_READ, .flags = MAP_PRIVATE, .file = f,
                       .offset = 100}).error(),
            Errno(EINVAL));
  EXPECT_EQ(mm_->Mmap({.len = kPage, .prot = PROT_READ, .flags = MAP_PRIVATE, .file = f,
                       .offset = -4096}).error(),
            Errno(EOVERFLOW));
}

TEST_F(FileMapTest, PrivateWritesStayPrivate) {
  auto data = Pattern(4 * kPage);
  auto f = std::make_shared<FakeFile>(data, /*writable=*/true);
  uint64_t a = MapFile(f, 4 * kPage, kRW);
  ASSERT_TRUE(mm_->CopyOut(a + 10, "XY", 2).ok());
  EXPECT_EQ(Read(a + 10, 2), (std::vector<uint8_t>{'X', 'Y'}));
  EXPECT_EQ(Read(a + 12, 1)[0], data[12]);  // the rest came from the file
  ASSERT_TRUE(mm_->Msync(a, 4 * kPage, MS_SYNC).ok());
  ASSERT_TRUE(mm_->Munmap(a, 4 * kPage).ok());
  EXPECT_EQ(f->writes, 0);
  EXPECT_EQ(f->data, data);
}

TEST_F(FileMapTest, DontNeedDropsPrivatePagesToBeReadAgain) {
  auto data = Pattern(4 * kPage);
  auto f = std::make_shared<FakeFile>(data);
  uint64_t a = MapFile(f, 4 * kPage, kRW);
  ASSERT_TRUE(mm_->CopyOut(a, "A", 1).ok());
  ASSERT_TRUE(mm_->CopyOut(a + kPage, "B", 1).ok());
  as().TakeCalls();
  // Only the second page: the first keeps its private write even though
  // both are in the same chunk.
  ASSERT_TRUE(mm_->Madvise(a + kPage, kPage, MADV_DONTNEED).ok());
  EXPECT_EQ(as().TakeCalls(), (std::vector<Call>{{false, a + kPage, kPage, 0, 0}}));
  EXPECT_EQ(Read(a, 1)[0], 'A');
  EXPECT_EQ(Read(a + kPage, 1)[0], data[kPage]);
  EXPECT_EQ(AppByte(a + kPage), data[kPage]);  // mapped again
}

TEST_F(FileMapTest, SharedWritableMappingWritesBackOnMsyncAndMunmap) {
  auto data = Pattern(2 * kPage + 100);
  auto f = std::make_shared<FakeFile>(data, /*writable=*/true);
  uint64_t a = MapFile(f, 3 * kPage, kRW, MAP_SHARED);
  ASSERT_TRUE(mm_->CopyOut(a + 1, "hi", 2).ok());
  // Past end of file but inside its last page: kept in memory, never
  // written to the file (it must not grow).
  ASSERT_TRUE(mm_->CopyOut(a + 2 * kPage + 200, "zz", 2).ok());
  ASSERT_TRUE(mm_->Msync(a, 3 * kPage, MS_SYNC).ok());
  EXPECT_EQ(f->data[1], 'h');
  EXPECT_EQ(f->data[2], 'i');
  EXPECT_EQ(f->data.size(), data.size());
  ASSERT_TRUE(mm_->CopyOut(a + kPage, "!", 1).ok());
  ASSERT_TRUE(mm_->Munmap(a, 3 * kPage).ok());
  EXPECT_EQ(f->data[kPage], '!');
  EXPECT_EQ(f->data.size(), data.size());
}

TEST_F(FileMapTest, SharedReadOnlyMappingIsNeverWrittenBack) {
  auto f = std::make_shared<FakeFile>(Pattern(kPage), /*writable=*/false);
  uint64_t a = MapFile(f, kPage, PROT_READ, MAP_SHARED, 0, kAt, PROT_READ | PROT_EXEC);
  Read(a, 10);
  EXPECT_EQ(mm_->Mprotect(a, kPage, kRW), Errno(EACCES));
  ASSERT_TRUE(mm_->Munmap(a, kPage).ok());
  EXPECT_EQ(f->writes, 0);
}

TEST_F(FileMapTest, WriteBackAtExit) {
  auto f = std::make_shared<FakeFile>(Pattern(kPage), /*writable=*/true);
  uint64_t a = MapFile(f, kPage, kRW, MAP_SHARED);
  ASSERT_TRUE(mm_->CopyOut(a, "E", 1).ok());
  mm_.reset();
  EXPECT_EQ(f->data[0], 'E');
}

TEST_F(FileMapTest, ReadErrorsAreBusErrorsAndEfault) {
  auto f = std::make_shared<FakeFile>(Pattern(kPage));
  f->fail_reads = true;
  uint64_t a = MapFile(f, kPage);
  EXPECT_EQ(mm_->HandleFault(a), FaultResult::kBusError);
  char c;
  EXPECT_EQ(mm_->CopyIn(a, &c, 1), Errno(EFAULT));
  f->fail_reads = false;
  EXPECT_EQ(mm_->HandleFault(a), FaultResult::kHandled);
}

TEST_F(FileMapTest, PopulateFlagPrefaultsWhatExists) {
  auto data = Pattern(2 * kChunk + kPage);
  auto f = std::make_shared<FakeFile>(data);
  uint64_t a = MapFile(f, 4 * kChunk, PROT_READ, MAP_PRIVATE | MAP_POPULATE);
  auto calls = as().TakeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].addr, a);
  EXPECT_EQ(calls[0].len, 2 * kChunk + kPage);
  EXPECT_EQ(AppByte(a + 2 * kChunk), data[2 * kChunk]);
}

TEST_F(FileMapTest, MprotectRemapsOnlyMappedPages) {
  auto f = std::make_shared<FakeFile>(Pattern(4 * kChunk));
  uint64_t a = MapFile(f, 4 * kChunk);
  ASSERT_EQ(mm_->HandleFault(a + 2 * kChunk), FaultResult::kHandled);
  as().TakeCalls();
  ASSERT_TRUE(mm_->Mprotect(a, 4 * kChunk, kRW).ok());
  EXPECT_EQ(as().TakeCalls(), (std::vector<Call>{{true, a + 2 * kChunk, kChunk,
                                                  as().Lookup(a + 2 * kChunk)->off, kRW}}));
  // Pages faulted in later get the new protection.
  ASSERT_EQ(mm_->HandleFault(a), FaultResult::kHandled);
  EXPECT_EQ(as().Lookup(a)->prot, kRW);
}

TEST_F(FileMapTest, MsyncErrors) {
  auto f = std::make_shared<FakeFile>(Pattern(kPage), true);
  uint64_t a = MapFile(f, kPage, kRW, MAP_SHARED);
  EXPECT_EQ(mm_->Msync(a, kPage, MS_SYNC | MS_ASYNC), Errno(EINVAL));
  EXPECT_EQ(mm_->Msync(a, kPage, 0x100), Errno(EINVAL));
  EXPECT_EQ(mm_->Msync(a + 1, kPage, MS_SYNC), Errno(EINVAL));
  EXPECT_EQ(mm_->Msync(a, 2 * kPage, MS_SYNC), Errno(ENOMEM));
  EXPECT_TRUE(mm_->Msync(a, kPage, MS_ASYNC | MS_INVALIDATE).ok());
}

TEST_F(FileMapTest, MlockFaultsFilePagesIn) {
  auto f = std::make_shared<FakeFile>(Pattern(kChunk));
  uint64_t a = MapFile(f, kChunk);
  ASSERT_TRUE(mm_->Mlock(a + 5, 100, true).ok());
  EXPECT_EQ(f->reads, 1);
  EXPECT_EQ(mm_->Mlock(a, 2 * kChunk, true), Errno(ENOMEM));
  EXPECT_TRUE(mm_->Mlock(a, kChunk, false).ok());
}

}  // namespace
}  // namespace palisade::testing
