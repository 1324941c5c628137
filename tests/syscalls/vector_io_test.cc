// readv(2)/writev(2)/preadv2(2)/pwritev2(2) details: scatter order, short
// reads at EOF, zero-length segments, offset -1 for preadv2/pwritev2,
// RWF_APPEND, RWF_NOWAIT and flag errors.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;

class VectorIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.CreateFile("f", "0123456789");
    int raw = open(path_.c_str(), O_RDWR);
    ASSERT_THAT(raw, SyscallSucceeds());
    fd_.reset(raw);
  }
  TempDir dir_;
  std::string path_;
  FileDescriptor fd_;
};

TEST_F(VectorIoTest, ReadvFillsBuffersInOrderAndStopsAtEof) {
  char a[3], b[4], c[100];
  struct iovec iov[3] = {{a, 3}, {b, 4}, {c, 100}};
  ASSERT_THAT(readv(fd_.get(), iov, 3), SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(a, 3), "012");
  EXPECT_EQ(std::string(b, 4), "3456");
  EXPECT_EQ(std::string(c, 3), "789");
  EXPECT_THAT(readv(fd_.get(), iov, 3), SyscallSucceedsWithValue(0));
}

TEST_F(VectorIoTest, ZeroLengthSegmentsAreSkipped) {
  char a[2], b[2];
  struct iovec iov[4] = {{nullptr, 0}, {a, 2}, {BadPointer(), 0}, {b, 2}};
  ASSERT_THAT(readv(fd_.get(), iov, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(a, 2) + std::string(b, 2), "0123");
  EXPECT_THAT(readv(fd_.get(), iov, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(writev(fd_.get(), iov, 0), SyscallSucceedsWithValue(0));
}

TEST_F(VectorIoTest, FaultInLaterSegmentGivesPartialCount) {
  char a[4];
  struct iovec iov[2] = {{a, 4}, {BadPointer(), 4}};
  // Linux returns the bytes moved before the fault.
  EXPECT_THAT(readv(fd_.get(), iov, 2), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(a, 4), "0123");
  struct iovec bad_first[1] = {{BadPointer(), 4}};
  EXPECT_THAT(readv(fd_.get(), bad_first, 1), SyscallFailsWithErrno(EFAULT));
}

TEST_F(VectorIoTest, IovCountLimits) {
  std::vector<struct iovec> many(IOV_MAX + 1);
  char c;
  for (auto& v : many) v = {&c, 1};
  EXPECT_THAT(readv(fd_.get(), many.data(), IOV_MAX + 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_readv, fd_.get(), many.data(), -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readv(fd_.get(), many.data(), IOV_MAX), SyscallSucceedsWithValue(10));
  // "EINVAL The sum of the iov_len values overflows an ssize_t value":
  // Linux checks that each length is non-negative as an ssize_t.
  struct iovec huge[2] = {{&c, 1}, {&c, static_cast<size_t>(SSIZE_MAX) + 1}};
  EXPECT_THAT(writev(fd_.get(), huge, 2), SyscallFailsWithErrno(EINVAL));
}

TEST_F(VectorIoTest, Preadv2WithOffsetMinusOneUsesFileOffset) {
  char buf[3];
  struct iovec iov = {buf, 3};
  ASSERT_THAT(lseek(fd_.get(), 2, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(preadv2(fd_.get(), &iov, 1, -1, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "234");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  // An explicit offset leaves the file offset alone.
  ASSERT_THAT(preadv2(fd_.get(), &iov, 1, 7, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "789");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  EXPECT_THAT(preadv2(fd_.get(), &iov, 1, -2, 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(VectorIoTest, Pwritev2WithOffsetMinusOneAdvancesOffset) {
  struct iovec iov = {const_cast<char*>("AB"), 2};
  ASSERT_THAT(lseek(fd_.get(), 4, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(pwritev2(fd_.get(), &iov, 1, -1, 0), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(6));
  ASSERT_THAT(pwritev2(fd_.get(), &iov, 1, 0, 0), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(6));
  EXPECT_EQ(ReadFileOrDie(path_), "AB23AB6789");
}

TEST_F(VectorIoTest, RwfAppendAppendsForOneCall) {
  struct iovec iov = {const_cast<char*>("XY"), 2};
  ASSERT_THAT(pwritev2(fd_.get(), &iov, 1, 0, RWF_APPEND), SyscallSucceedsWithValue(2));
  EXPECT_EQ(ReadFileOrDie(path_), "0123456789XY");
  // Not sticky: the next positional write goes where it is told.
  ASSERT_THAT(pwritev2(fd_.get(), &iov, 1, 0, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(ReadFileOrDie(path_), "XY23456789XY");
}

TEST_F(VectorIoTest, RwfNowaitOnEmptyPipeIsEagain) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  char c;
  struct iovec iov = {&c, 1};
  int r = preadv2(p[0], &iov, 1, -1, RWF_NOWAIT);
  // Pipes support RWF_NOWAIT since Linux 5.x; older kernels say EOPNOTSUPP.
  EXPECT_TRUE(r == -1 && (errno == EAGAIN || errno == EOPNOTSUPP)) << r << " " << ErrnoName(errno);
  ASSERT_THAT(write(p[1], "q", 1), SyscallSucceeds());
  if (errno == EAGAIN) {
    EXPECT_THAT(preadv2(p[0], &iov, 1, -1, RWF_NOWAIT), SyscallSucceedsWithValue(1));
  }
  close(p[0]);
  close(p[1]);
}

TEST_F(VectorIoTest, UnknownFlagsAreEopnotsupp) {
  char c;
  struct iovec iov = {&c, 1};
  EXPECT_THAT(preadv2(fd_.get(), &iov, 1, 0, 0x100000), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(pwritev2(fd_.get(), &iov, 1, 0, 0x100000), SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST_F(VectorIoTest, PositionalVectorIoOnPipeIsEspipe) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  char c = 'x';
  struct iovec iov = {&c, 1};
  EXPECT_THAT(pwritev(p[1], &iov, 1, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(preadv(p[0], &iov, 1, 0), SyscallFailsWithErrno(ESPIPE));
  // With offset -1 preadv2/pwritev2 behave like readv/writev.
  EXPECT_THAT(pwritev2(p[1], &iov, 1, -1, 0), SyscallSucceedsWithValue(1));
  EXPECT_THAT(preadv2(p[0], &iov, 1, -1, 0), SyscallSucceedsWithValue(1));
  close(p[0]);
  close(p[1]);
}

TEST_F(VectorIoTest, WritevIsOneContiguousWrite) {
  int fd = open(path_.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  struct iovec iov[3] = {{const_cast<char*>("a"), 1}, {const_cast<char*>("bb"), 2},
                         {const_cast<char*>("ccc"), 3}};
  ASSERT_THAT(writev(fd, iov, 3), SyscallSucceedsWithValue(6));
  close(fd);
  EXPECT_EQ(ReadFileOrDie(path_), "0123456789abbccc");
}

TEST_F(VectorIoTest, BadDescriptorsAndModes) {
  char c;
  struct iovec iov = {&c, 1};
  EXPECT_THAT(readv(-1, &iov, 1), SyscallFailsWithErrno(EBADF));
  int wo = open(path_.c_str(), O_WRONLY);
  EXPECT_THAT(readv(wo, &iov, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(preadv2(wo, &iov, 1, 0, 0), SyscallFailsWithErrno(EBADF));
  close(wo);
  int ro = open(path_.c_str(), O_RDONLY);
  EXPECT_THAT(writev(ro, &iov, 1), SyscallFailsWithErrno(EBADF));
  close(ro);
  EXPECT_THAT(readv(fd_.get(), static_cast<struct iovec*>(BadPointer()), 1), SyscallFailsWithErrno(EFAULT));
  int d = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(readv(d, &iov, 1), SyscallFailsWithErrno(EISDIR));
  close(d);
}

}  // namespace
}  // namespace palisade::testing
