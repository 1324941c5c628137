// CopyIn/CopyOut and friends: protections, holes, VMA boundaries, the
// string reader's stop conditions, and the views lent to host calls.
#include <gtest/gtest.h>
#include <sys/uio.h>

#include <string>
#include <vector>

#include "tests/unit/mm/mm_test_util.h"

namespace palisade::testing {
namespace {

TEST_F(MmTest, CopyOutThenInRoundTripsAndIsVisibleToTheApp) {
  uint64_t a = MapAnon(2 * kPage);
  std::string msg(5000, 'q');
  msg[0] = 'a';
  msg[4999] = 'z';
  ASSERT_TRUE(mm_->CopyOut(a + 100, msg.data(), msg.size()).ok());
  std::string back(msg.size(), 0);
  ASSERT_TRUE(mm_->CopyIn(a + 100, back.data(), back.size()).ok());
  EXPECT_EQ(back, msg);
  EXPECT_EQ(AppByte(a + 100), 'a');
  EXPECT_EQ(AppByte(a + 100 + 4999), 'z');
}

TEST_F(MmTest, CopyAcrossAdjacentVmas) {
  uint64_t a = MapAnon(kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  MapAnon(kPage, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, 0x40001000);
  std::vector<uint8_t> buf(2 * kPage, 5);
  ASSERT_TRUE(mm_->CopyOut(a, buf.data(), buf.size()).ok());
  EXPECT_EQ(AppByte(a + kPage - 1), 5);
  EXPECT_EQ(AppByte(a + kPage), 5);
}

TEST_F(MmTest, CopyFaultsOnHolesAndMissingProtection) {
  uint64_t a = MapAnon(kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  MapAnon(kPage, PROT_NONE, kAnon | MAP_FIXED, 0x40001000);
  MapAnon(kPage, PROT_READ, kAnon | MAP_FIXED, 0x40002000);
  char buf[16] = {};
  EXPECT_EQ(mm_->CopyIn(a + kPage, buf, 1), Errno(EFAULT));           // PROT_NONE
  EXPECT_EQ(mm_->CopyIn(a + kPage - 8, buf, 16), Errno(EFAULT));      // runs into it
  EXPECT_EQ(mm_->CopyOut(a + 2 * kPage, buf, 1), Errno(EFAULT));      // read-only
  EXPECT_TRUE(mm_->CopyIn(a + 2 * kPage, buf, 1).ok());
  EXPECT_EQ(mm_->CopyIn(a + 3 * kPage, buf, 1), Errno(EFAULT));       // unmapped
  EXPECT_EQ(mm_->CopyIn(0, buf, 1), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(~0ull - 4, buf, 16), Errno(EFAULT));          // wraps
  EXPECT_TRUE(mm_->CopyIn(0, buf, 0).ok());                           // nothing to do
}

TEST_F(MmTest, WriteOnlyAndExecOnlyMemoryIsReadableAsOnX86) {
  uint64_t w = MapAnon(kPage, PROT_WRITE);
  uint64_t x = MapAnon(kPage, PROT_EXEC);
  char c;
  EXPECT_TRUE(mm_->CopyIn(w, &c, 1).ok());
  EXPECT_TRUE(mm_->CopyIn(x, &c, 1).ok());
  EXPECT_EQ(mm_->CopyOut(x, &c, 1), Errno(EFAULT));
}

TEST_F(MmTest, ReadableViewsStopAtTheFirstUnreadableByte) {
  uint64_t a = MapAnon(kPage, kRW, kAnon | MAP_FIXED, 0x40000000);
  MapAnon(kPage, kRW, kAnon | MAP_FIXED, 0x40001000);
  MapAnon(kPage, PROT_NONE, kAnon | MAP_FIXED, 0x40002000);
  std::string data(2 * kPage, 'v');
  ASSERT_TRUE(mm_->CopyOut(a, data.data(), data.size()).ok());
  const struct iovec app[2] = {{reinterpret_cast<void*>(a + 10), 5},
                               {reinterpret_cast<void*>(a + kPage - 6), kPage + 100}};
  std::string seen;
  bool fault = false;
  ErrnoOr<int64_t> r = mm_->WithReadableViews(app, [&](std::span<const struct iovec> views, bool faulted) {
    for (const struct iovec& v : views) seen.append(static_cast<const char*>(v.iov_base), v.iov_len);
    fault = faulted;
    return ErrnoOr<int64_t>(static_cast<int64_t>(views.size()));
  });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(fault);
  EXPECT_EQ(seen, std::string(5 + kPage + 6, 'v'));  // up to the PROT_NONE page
}

TEST_F(MmTest, CopyOutForceIgnoresProtectionButNotHoles) {
  uint64_t a = MapAnon(kPage, PROT_READ | PROT_EXEC);
  ASSERT_TRUE(mm_->CopyOutForce(a, "\xcc", 1).ok());  // a breakpoint into code
  EXPECT_EQ(AppByte(a), 0xcc);
  uint64_t n = MapAnon(kPage, PROT_NONE, kAnon | MAP_FIXED, 0x40000000);
  EXPECT_TRUE(mm_->CopyOutForce(n, "x", 1).ok());
  EXPECT_EQ(mm_->CopyOutForce(n + kPage, "x", 1), Errno(EFAULT));
}

TEST_F(MmTest, ZeroOut) {
  uint64_t a = MapAnon(kPage);
  std::vector<uint8_t> ones(100, 1);
  ASSERT_TRUE(mm_->CopyOut(a, ones.data(), ones.size()).ok());
  ASSERT_TRUE(mm_->ZeroOut(a + 10, 50).ok());
  EXPECT_EQ(Get(a + 9), 1);
  EXPECT_EQ(Get(a + 10), 0);
  EXPECT_EQ(Get(a + 59), 0);
  EXPECT_EQ(Get(a + 60), 1);
  EXPECT_EQ(mm_->ZeroOut(a + kPage - 1, 2), Errno(EFAULT));
}

TEST_F(MmTest, CopyInStringStopsAtNul) {
  uint64_t a = MapAnon(kPage);
  ASSERT_TRUE(mm_->CopyOut(a, "hello\0world", 12).ok());
  ErrnoOr<std::string> s = mm_->CopyInString(a, 4096);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "hello");
  EXPECT_EQ(*mm_->CopyInString(a + 5, 4096), "");
}

TEST_F(MmTest, CopyInStringMayEndRightBeforeAHole) {
  // The string's NUL is the last byte of the mapping: nothing after it is read.
  uint64_t a = MapAnon(kPage);
  std::string tail = "tail";
  ASSERT_TRUE(mm_->CopyOut(a + kPage - 5, tail.c_str(), 5).ok());
  EXPECT_EQ(*mm_->CopyInString(a + kPage - 5, 4096), "tail");
  // Without a NUL before the hole: EFAULT.
  ASSERT_TRUE(mm_->CopyOut(a + kPage - 1, "x", 1).ok());
  EXPECT_EQ(mm_->CopyInString(a + kPage - 5, 4096).error(), Errno(EFAULT));
}

TEST_F(MmTest, CopyInStringTooLong) {
  uint64_t a = MapAnon(2 * kPage);
  std::string s(kPage + 10, 'a');
  ASSERT_TRUE(mm_->CopyOut(a, s.c_str(), s.size() + 1).ok());
  EXPECT_EQ(mm_->CopyInString(a, 100).error(), Errno(ENAMETOOLONG));
  // max counts the NUL: a string of max-1 bytes fits, one of max does not.
  EXPECT_EQ(mm_->CopyInString(a + s.size() - 99, 100)->size(), 99u);
  EXPECT_EQ(mm_->CopyInString(a + s.size() - 100, 100).error(), Errno(ENAMETOOLONG));
  // Spanning a page boundary.
  EXPECT_EQ(mm_->CopyInString(a, 8192)->size(), s.size());
}

TEST_F(MmTest, CopyInStringFromUnreadableMemory) {
  uint64_t a = MapAnon(kPage, PROT_NONE);
  EXPECT_EQ(mm_->CopyInString(a, 10).error(), Errno(EFAULT));
}

}  // namespace
}  // namespace palisade::testing
