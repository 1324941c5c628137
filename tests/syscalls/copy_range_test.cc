// sendfile(2) and copy_file_range(2): offsets through pointers versus the
// file offset, short copies at EOF, and the documented errors.
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;

class CopyRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_path_ = dir_.CreateFile("src", "abcdefghijklmnopqrstuvwxyz");
    dst_path_ = dir_.CreateFile("dst", "");
    src_.reset(open(src_path_.c_str(), O_RDONLY));
    dst_.reset(open(dst_path_.c_str(), O_RDWR));
    ASSERT_TRUE(src_.valid() && dst_.valid());
  }
  TempDir dir_;
  std::string src_path_, dst_path_;
  FileDescriptor src_, dst_;
};

TEST_F(CopyRangeTest, SendfileUsesAndAdvancesFileOffsets) {
  ASSERT_THAT(sendfile(dst_.get(), src_.get(), nullptr, 5), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(src_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  ASSERT_THAT(sendfile(dst_.get(), src_.get(), nullptr, 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadFileOrDie(dst_path_), "abcdefgh");
}

TEST_F(CopyRangeTest, SendfileWithOffsetPointerLeavesFileOffset) {
  // "If offset is not NULL ... sendfile() does not modify the file offset
  // of in_fd; otherwise the file offset is adjusted". *offset is updated.
  off_t off = 20;
  ASSERT_THAT(sendfile(dst_.get(), src_.get(), &off, 100), SyscallSucceedsWithValue(6));
  EXPECT_EQ(off, 26);
  EXPECT_THAT(lseek(src_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_EQ(ReadFileOrDie(dst_path_), "uvwxyz");
  // At EOF it returns 0.
  EXPECT_THAT(sendfile(dst_.get(), src_.get(), &off, 100), SyscallSucceedsWithValue(0));
  EXPECT_THAT(sendfile(dst_.get(), src_.get(), nullptr, 0), SyscallSucceedsWithValue(0));
}

TEST_F(CopyRangeTest, SendfileIntoPipe) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  ASSERT_THAT(sendfile(p[1], src_.get(), nullptr, 26), SyscallSucceedsWithValue(26));
  char buf[32];
  EXPECT_THAT(read(p[0], buf, sizeof(buf)), SyscallSucceedsWithValue(26));
  close(p[0]);
  close(p[1]);
}

TEST_F(CopyRangeTest, SendfileErrors) {
  off_t off = 0;
  EXPECT_THAT(sendfile(-1, src_.get(), nullptr, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sendfile(dst_.get(), -1, nullptr, 1), SyscallFailsWithErrno(EBADF));
  // "EBADF in_fd is not open for reading or out_fd is not open for writing".
  EXPECT_THAT(sendfile(src_.get(), src_.get(), nullptr, 1), SyscallFailsWithErrno(EBADF));
  int wo = open(src_path_.c_str(), O_WRONLY);
  EXPECT_THAT(sendfile(dst_.get(), wo, nullptr, 1), SyscallFailsWithErrno(EBADF));
  close(wo);
  EXPECT_THAT(sendfile(dst_.get(), src_.get(), static_cast<off_t*>(BadPointer()), 1),
              SyscallFailsWithErrno(EFAULT));
  off = -1;
  EXPECT_THAT(sendfile(dst_.get(), src_.get(), &off, 1), SyscallFailsWithErrno(EINVAL));
  // A descriptor opened with O_APPEND cannot be the target (EINVAL).
  int app = open(dst_path_.c_str(), O_WRONLY | O_APPEND);
  EXPECT_THAT(sendfile(app, src_.get(), nullptr, 1), SyscallFailsWithErrno(EINVAL));
  close(app);
  int d = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(sendfile(dst_.get(), d, nullptr, 1), SyscallFailsWithErrno(EINVAL));
  close(d);
}

TEST_F(CopyRangeTest, CopyFileRangeWithFileOffsets) {
  ASSERT_THAT(lseek(src_.get(), 10, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(copy_file_range(src_.get(), nullptr, dst_.get(), nullptr, 4, 0), SyscallSucceedsWithValue(4));
  EXPECT_THAT(lseek(src_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(14));
  EXPECT_THAT(lseek(dst_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFileOrDie(dst_path_), "klmn");
}

TEST_F(CopyRangeTest, CopyFileRangeWithExplicitOffsets) {
  loff_t in = 23, out = 2;
  ASSERT_THAT(copy_file_range(src_.get(), &in, dst_.get(), &out, 10, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(in, 26);
  EXPECT_EQ(out, 5);
  EXPECT_THAT(lseek(src_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(dst_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_EQ(ReadFileOrDie(dst_path_), std::string("\0\0xyz", 5));
  // At or past EOF nothing is copied.
  EXPECT_THAT(copy_file_range(src_.get(), &in, dst_.get(), &out, 10, 0), SyscallSucceedsWithValue(0));
}

TEST_F(CopyRangeTest, CopyFileRangeWithinOneFile) {
  int fd = open(src_path_.c_str(), O_RDWR);
  loff_t in = 0, out = 26;
  ASSERT_THAT(copy_file_range(fd, &in, fd, &out, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadFileOrDie(src_path_), "abcdefghijklmnopqrstuvwxyzabc");
  // "EINVAL fd_in and fd_out refer to the same file and the source and
  // target ranges overlap."
  in = 0;
  out = 2;
  EXPECT_THAT(copy_file_range(fd, &in, fd, &out, 5, 0), SyscallFailsWithErrno(EINVAL));
  close(fd);
}

TEST_F(CopyRangeTest, CopyFileRangeErrors) {
  loff_t in = 0, out = 0;
  // "EINVAL The flags argument is not 0."
  EXPECT_THAT(copy_file_range(src_.get(), &in, dst_.get(), &out, 1, 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(copy_file_range(-1, &in, dst_.get(), &out, 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(copy_file_range(src_.get(), &in, src_.get(), &out, 1, 0), SyscallFailsWithErrno(EBADF));
  // "EBADF fd_out is opened with O_APPEND".
  int app = open(dst_path_.c_str(), O_WRONLY | O_APPEND);
  EXPECT_THAT(copy_file_range(src_.get(), &in, app, nullptr, 1, 0), SyscallFailsWithErrno(EBADF));
  close(app);
  int d = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(copy_file_range(d, nullptr, dst_.get(), nullptr, 1, 0), SyscallFailsWithErrno(EISDIR));
  close(d);
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  EXPECT_THAT(copy_file_range(p[0], nullptr, dst_.get(), nullptr, 1, 0), SyscallFailsWithErrno(EINVAL));
  close(p[0]);
  close(p[1]);
  in = -1;  // EOVERFLOW on recent kernels, EINVAL on older ones
  EXPECT_THAT(copy_file_range(src_.get(), &in, dst_.get(), &out, 1, 0),
              SyscallFailsWithErrno(AnyOf(EINVAL, EOVERFLOW)));
  EXPECT_THAT(copy_file_range(src_.get(), static_cast<loff_t*>(BadPointer()), dst_.get(), &out, 1, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(CopyRangeTest, LargeCopyIsComplete) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 31 + i / 977);
  std::string bp = dir_.CreateFile("big", big);
  int in = open(bp.c_str(), O_RDONLY);
  ASSERT_GE(in, 0);
  size_t total = 0;
  while (total < big.size()) {
    ssize_t n = sendfile(dst_.get(), in, nullptr, big.size() - total);
    ASSERT_THAT(n, SyscallSucceeds());
    ASSERT_GT(n, 0);
    total += n;
  }
  close(in);
  EXPECT_TRUE(ReadFileOrDie(dst_path_) == big);
}

}  // namespace
}  // namespace palisade::testing
