// Private read-only mappings of an immutable file (MappableFile::
// ImmutablePages, the rootfs): one page cache shared by every address
// space, read from the file once, mapped whole on a fault; and never
// written: PROT_WRITE (mprotect) or a forced write (the loader's) turns
// the mapping into a private copy first.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "sentry/mm/file_memory.h"
#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

constexpr uint64_t kChunk = 64 << 10;
constexpr uint64_t kAt = 0x40000000;  // chunk aligned

class ImmutableFile : public FakeFile {
 public:
  ImmutableFile(MemoryFile& mf, std::vector<uint8_t> bytes) : FakeFile(std::move(bytes)) {
    auto c = FileMemory::NewImmutableCache(mf, static_cast<int64_t>(data.size()),
                                           [this](std::span<uint8_t> dst, int64_t off) { return ReadAt(dst, off); });
    EXPECT_TRUE(c.ok());
    if (c.ok()) cache = *c;
  }
  FileMemory* ImmutablePages() override { return cache.get(); }
  std::shared_ptr<FileMemory> cache;
};

class ImmutableFileTest : public MmTest {
 protected:
  void SetUp() override {
    MmTest::SetUp();
    data_ = Pattern(4 * kChunk);
    file_ = std::make_shared<ImmutableFile>(*mf_, data_);
    other_ = std::make_shared<MemoryManager>(*mf_, platform_);
  }
  static uint64_t Map(MemoryManager& mm, std::shared_ptr<MappableFile> f, int prot, uint64_t len = 4 * kChunk) {
    ErrnoOr<uint64_t> a = mm.Mmap({.addr = kAt, .len = len, .prot = prot, .flags = MAP_PRIVATE | MAP_FIXED,
                                   .file = std::move(f), .offset = 0,
                                   .max_prot = PROT_READ | PROT_WRITE | PROT_EXEC});
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : 0;
  }
  static int Byte(MemoryManager& mm, uint64_t addr) {
    uint8_t b = 0;
    return mm.CopyIn(addr, &b, 1).ok() ? b : -1;
  }
  std::vector<uint8_t> data_;
  std::shared_ptr<ImmutableFile> file_;
  std::shared_ptr<MemoryManager> other_;
};

TEST_F(ImmutableFileTest, AddressSpacesShareOneCopyReadOnce) {
  const uint64_t a = Map(*mm_, file_, PROT_READ | PROT_EXEC);
  const uint64_t b = Map(*other_, file_, PROT_READ);
  ASSERT_EQ(mm_->HandleFault(a + kChunk + 5), FaultResult::kHandled);
  EXPECT_EQ(file_->reads, 1);
  ASSERT_EQ(other_->HandleFault(b + kChunk + 9), FaultResult::kHandled);
  EXPECT_EQ(file_->reads, 1);  // the second address space read nothing
  // The very same MemoryFile pages, with each mapping's own protection.
  auto sa = FakeAddressSpace::Of(*mm_).Lookup(a + kChunk);
  auto sb = FakeAddressSpace::Of(*other_).Lookup(b + kChunk);
  ASSERT_TRUE(sa && sb);
  EXPECT_EQ(sa->off, sb->off);
  EXPECT_EQ(AppByte(*mf_, *other_, b + kChunk + 9), data_[kChunk + 9]);
  EXPECT_EQ(Byte(*mm_, a + 3 * kChunk + 1), data_[3 * kChunk + 1]);  // syscall reads fill too
}

TEST_F(ImmutableFileTest, AFaultMapsEveryCachedPageOfTheMapping) {
  const uint64_t a = Map(*mm_, file_, PROT_READ);
  ASSERT_EQ(mm_->HandleFault(a + 1), FaultResult::kHandled);
  ASSERT_EQ(mm_->HandleFault(a + kChunk + 1), FaultResult::kHandled);
  const int reads = file_->reads;
  const uint64_t b = Map(*other_, file_, PROT_READ);
  FakeAddressSpace::Of(*other_).TakeCalls();
  ASSERT_EQ(other_->HandleFault(b + kChunk + 1), FaultResult::kHandled);
  // Both cached chunks, contiguous in the cache's MemoryFile range: one
  // mapping call; the chunks never read stay unmapped.
  auto calls = FakeAddressSpace::Of(*other_).TakeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].addr, b);
  EXPECT_EQ(calls[0].len, 2 * kChunk);
  EXPECT_EQ(file_->reads, reads);
  EXPECT_EQ(AppByte(*mf_, *other_, b + 1), data_[1]);
  EXPECT_EQ(AppByte(*mf_, *other_, b + 2 * kChunk), -1);
}

TEST_F(ImmutableFileTest, MprotectWritableMakesAPrivateCopy) {
  const uint64_t a = Map(*mm_, file_, PROT_READ);
  const uint64_t b = Map(*other_, file_, PROT_READ);
  ASSERT_EQ(Byte(*mm_, a + 10), data_[10]);
  ASSERT_EQ(mm_->Mprotect(a, kChunk, PROT_READ | PROT_WRITE), Errno::Ok());
  const uint8_t x = static_cast<uint8_t>(data_[10] + 1);
  ASSERT_TRUE(mm_->CopyOut(a + 10, &x, 1).ok());
  EXPECT_EQ(Byte(*mm_, a + 10), x);
  EXPECT_EQ(Byte(*mm_, a + kChunk + 10), data_[kChunk + 10]);  // the rest still reads the file
  EXPECT_EQ(Byte(*other_, b + 10), data_[10]);                 // nobody else sees the write
  EXPECT_EQ(file_->data[10], data_[10]);
}

TEST_F(ImmutableFileTest, ForcedWriteNeverReachesTheCache) {
  const uint64_t a = Map(*mm_, file_, PROT_READ);
  const uint64_t b = Map(*other_, file_, PROT_READ);
  ASSERT_EQ(Byte(*other_, b + 7), data_[7]);
  const uint8_t z = 0xEE;
  ASSERT_TRUE(mm_->CopyOutForce(a + 7, &z, 1).ok());
  EXPECT_EQ(Byte(*mm_, a + 7), 0xEE);
  EXPECT_EQ(Byte(*other_, b + 7), data_[7]);
  uint8_t plain = 1;
  EXPECT_EQ(other_->CopyOut(b + 7, &plain, 1), Errno(EFAULT));  // read-only stays read-only
}

TEST_F(ImmutableFileTest, WritableAndForkedMappings) {
  // Writable from the start: a private copy; the cache is untouched.
  const uint64_t a = Map(*mm_, file_, PROT_READ | PROT_WRITE);
  const uint8_t y = 0x55;
  ASSERT_TRUE(mm_->CopyOut(a + 3, &y, 1).ok());
  const uint64_t b = Map(*other_, file_, PROT_READ);
  EXPECT_EQ(Byte(*other_, b + 3), data_[3]);
  // A fork shares the read-only mapping's pages; MADV_DONTNEED keeps them.
  auto child = other_->Fork();
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(Byte(**child, b + 3), data_[3]);
  ASSERT_EQ((*child)->Madvise(b, kChunk, MADV_DONTNEED), Errno::Ok());
  EXPECT_EQ(Byte(**child, b + 3), data_[3]);
}

}  // namespace
}  // namespace palisade::testing
