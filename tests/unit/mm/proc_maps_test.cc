// /proc/pid/maps text, size counters, madvise on anonymous memory, mincore.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

TEST_F(MmTest, ProcMapsMatchesLinuxFormat) {
  auto f = std::make_shared<FakeFile>(Pattern(8 * kPage), false, "/usr/bin/dbus-daemon");
  ASSERT_TRUE(mm_->Mmap({.addr = 0x400000, .len = 0x52000, .prot = PROT_READ | PROT_EXEC,
                         .flags = MAP_PRIVATE | MAP_FIXED, .file = f, .offset = 0x2000}).ok());
  ASSERT_TRUE(mm_->Mmap({.addr = 0x7f0000000000, .len = 2 * kPage, .prot = kRW,
                         .flags = kAnon | MAP_FIXED}).ok());
  ASSERT_TRUE(mm_->Mmap({.addr = 0x7f0000010000, .len = kPage, .prot = PROT_READ,
                         .flags = MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED}).ok());
  ASSERT_TRUE(mm_->Mmap({.addr = 0x7ffd00000000, .len = kPage, .prot = kRW,
                         .flags = kAnon | MAP_FIXED | MAP_GROWSDOWN, .name = "[stack]"}).ok());
  const std::string want =
      "00400000-00452000 r-xp 00002000 08:02 173521" + std::string(29, ' ') +
      "/usr/bin/dbus-daemon\n"
      "7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n"
      "7f0000010000-7f0000011000 r--s 00000000 00:00 0" + std::string(26, ' ') +
      "/dev/zero (deleted)\n"
      "7ffd00000000-7ffd00001000 rw-p 00000000 00:00 0" + std::string(26, ' ') + "[stack]\n";
  EXPECT_EQ(mm_->ProcMaps(), want);
  // Names start at column 73, as Linux pads them.
  for (size_t pos = 0, nl; (nl = want.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    std::string line = want.substr(pos, nl - pos);
    if (line.back() == ' ') continue;  // no name
    EXPECT_EQ(line[72], ' ') << line;
    EXPECT_NE(line[73], ' ') << line;
  }
}

TEST_F(MmTest, ProcMapsShowsSplitsAndGaps) {
  uint64_t a = MapAnon(3 * kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  ASSERT_TRUE(mm_->Mprotect(a + kPage, kPage, PROT_NONE).ok());
  EXPECT_EQ(mm_->ProcMaps(),
            "40000000-40001000 rw-p 00000000 00:00 0 \n"
            "40001000-40002000 ---p 00000000 00:00 0 \n"
            "40002000-40003000 rw-p 00000000 00:00 0 \n");
}

TEST_F(MmTest, VirtualAndResidentSize) {
  uint64_t a = MapAnon(10 * kPage);
  MapAnon(6 * kPage);
  EXPECT_EQ(mm_->VirtualSize(), 16 * kPage);
  EXPECT_EQ(mm_->ResidentSize(), 0u);
  Put(a, 1);
  Put(a + 3 * kPage + 5, 1);
  EXPECT_EQ(mm_->ResidentSize(), 2 * kPage);
}

TEST_F(MmTest, MadviseDontNeedZeroesPrivateAnonymousMemory) {
  uint64_t a = MapAnon(4 * kPage);
  for (uint64_t i = 0; i < 4; ++i) Put(a + i * kPage, static_cast<uint8_t>(i + 1));
  ASSERT_TRUE(mm_->Madvise(a + kPage, 2 * kPage, MADV_DONTNEED).ok());
  EXPECT_EQ(mm_->ResidentSize(), 2 * kPage);  // before reading: a read allocates again
  EXPECT_EQ(Get(a), 1);
  EXPECT_EQ(Get(a + kPage), 0);
  EXPECT_EQ(AppByte(a + 2 * kPage), 0);  // the app sees zeros too, still mapped
  EXPECT_EQ(Get(a + 3 * kPage), 4);
}

TEST_F(MmTest, MadviseDontNeedKeepsSharedMemory) {
  uint64_t a = MapAnon(kPage, kRW, MAP_SHARED | MAP_ANONYMOUS);
  Put(a, 3);
  ASSERT_TRUE(mm_->Madvise(a, kPage, MADV_DONTNEED).ok());
  EXPECT_EQ(Get(a), 3);
  ASSERT_TRUE(mm_->Madvise(a, kPage, MADV_REMOVE).ok());  // punches the shared object
  EXPECT_EQ(Get(a), 0);
}

TEST_F(MmTest, MadviseArgumentChecks) {
  uint64_t a = MapAnon(2 * kPage);
  EXPECT_EQ(mm_->Madvise(a, kPage, 12345), Errno(EINVAL));
  EXPECT_EQ(mm_->Madvise(a + 1, kPage, MADV_NORMAL), Errno(EINVAL));
  EXPECT_TRUE(mm_->Madvise(a, kPage, MADV_WILLNEED).ok());
  EXPECT_TRUE(mm_->Madvise(a, kPage, MADV_HUGEPAGE).ok());
  EXPECT_TRUE(mm_->Madvise(a, 0, MADV_DONTNEED).ok());
  EXPECT_EQ(mm_->Madvise(a, 3 * kPage, MADV_DONTNEED), Errno(ENOMEM));  // hole after
  EXPECT_EQ(mm_->Madvise(a, kPage, MADV_REMOVE), Errno(EINVAL));       // private
}

TEST_F(MmTest, PopulateAndMlockGiveAnonymousPagesMemory) {
  uint64_t a = MapAnon(3 * kPage, kRW, kAnon | MAP_POPULATE);
  std::vector<uint8_t> vec(3);
  ASSERT_TRUE(mm_->Mincore(a, 3 * kPage, vec).ok());
  EXPECT_EQ(vec, std::vector<uint8_t>({1, 1, 1}));
  uint64_t b = MapAnon(3 * kPage);
  ASSERT_TRUE(mm_->Mincore(b, 3 * kPage, vec).ok());
  EXPECT_EQ(vec, std::vector<uint8_t>({0, 0, 0}));
  ASSERT_TRUE(mm_->Mlock(b + kPage, kPage, true).ok());
  ASSERT_TRUE(mm_->Mincore(b, 3 * kPage, vec).ok());
  EXPECT_EQ(vec, std::vector<uint8_t>({0, 1, 0}));
}

TEST_F(MmTest, MincoreReportsPagesWithMemory) {
  uint64_t a = MapAnon(4 * kPage);
  Put(a + kPage, 1);
  Put(a + 3 * kPage, 1);
  std::vector<uint8_t> vec(4, 0xff);
  ASSERT_TRUE(mm_->Mincore(a, 4 * kPage, vec).ok());
  EXPECT_EQ(vec, (std::vector<uint8_t>{0, 1, 0, 1}));
  EXPECT_EQ(mm_->Mincore(a + 1, kPage, vec), Errno(EINVAL));
  std::vector<uint8_t> five(5);
  EXPECT_EQ(mm_->Mincore(a, 5 * kPage, five), Errno(ENOMEM));
  std::vector<uint8_t> small(1);
  EXPECT_EQ(mm_->Mincore(a, 4 * kPage, small), Errno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
