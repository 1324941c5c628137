// lseek(2) SEEK_DATA and SEEK_HOLE, and fallocate(2) modes: holes read as
// zeros, allocation extends the size unless FALLOC_FL_KEEP_SIZE, punching
// a hole zeroes a range, and the documented errors.
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
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

class SeekDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int raw = open(dir_.Join("f").c_str(), O_RDWR | O_CREAT, 0644);
    ASSERT_THAT(raw, SyscallSucceeds());
    fd_.reset(raw);
  }
  off_t Size() {
    struct stat st;
    if (fstat(fd_.get(), &st) != 0) DieErrno("fstat");
    return st.st_size;
  }
  TempDir dir_;
  FileDescriptor fd_;
};

TEST_F(SeekDataTest, EmptyFileHasNoData) {
  // "ENXIO whence is SEEK_DATA or SEEK_HOLE, and offset is beyond the end
  // of the file".
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_HOLE), SyscallFailsWithErrno(ENXIO));
}

TEST_F(SeekDataTest, DenseFile) {
  ASSERT_THAT(write(fd_.get(), "hello", 5), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_DATA), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd_.get(), 2, SEEK_DATA), SyscallSucceedsWithValue(2));
  // There is an implicit hole at the end of every file.
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_HOLE), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(fd_.get(), 4, SEEK_HOLE), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(fd_.get(), 5, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), 5, SEEK_HOLE), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), -1, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
  // The call moves the file offset.
  ASSERT_THAT(lseek(fd_.get(), 1, SEEK_DATA), SyscallSucceedsWithValue(1));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(1));
}

TEST_F(SeekDataTest, SparseFileReportsDataInsideAnyHole) {
  // Data at [0, 4096) and [1 MiB, 1 MiB + 4096): a file system may report
  // a hole as data (the man page allows it), but never data as a hole.
  const off_t kFar = 1 << 20;
  std::string block(4096, 'd');
  ASSERT_THAT(pwrite(fd_.get(), block.data(), block.size(), 0), SyscallSucceeds());
  ASSERT_THAT(pwrite(fd_.get(), block.data(), block.size(), kFar), SyscallSucceeds());
  off_t hole = lseek(fd_.get(), 0, SEEK_HOLE);
  ASSERT_THAT(hole, SyscallSucceeds());
  EXPECT_TRUE(hole == 4096 || hole == kFar + 4096) << hole;
  off_t data = lseek(fd_.get(), 8192, SEEK_DATA);
  ASSERT_THAT(data, SyscallSucceeds());
  EXPECT_LE(data, kFar);
  EXPECT_GE(data, 8192);
  EXPECT_THAT(lseek(fd_.get(), kFar + 1, SEEK_DATA), SyscallSucceedsWithValue(kFar + 1));
  EXPECT_THAT(lseek(fd_.get(), kFar, SEEK_HOLE), SyscallSucceedsWithValue(kFar + 4096));
  // The hole reads back as zeros.
  char buf[16];
  ASSERT_THAT(pread(fd_.get(), buf, sizeof(buf), 8192), SyscallSucceedsWithValue(16));
  EXPECT_EQ(std::string(buf, 16), std::string(16, '\0'));
}

TEST_F(SeekDataTest, SeekDataOnPipeIsEspipe) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  EXPECT_THAT(lseek(p[0], 0, SEEK_DATA), SyscallFailsWithErrno(ESPIPE));
  close(p[0]);
  close(p[1]);
}

TEST_F(SeekDataTest, FallocateExtendsSizeWithZeros) {
  ASSERT_THAT(write(fd_.get(), "ab", 2), SyscallSucceeds());
  ASSERT_THAT(fallocate(fd_.get(), 0, 0, 10000), SyscallSucceeds());
  EXPECT_EQ(Size(), 10000);
  char buf[4];
  ASSERT_THAT(pread(fd_.get(), buf, 4, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), std::string("ab\0\0", 4)) << "fallocate must keep data";
  struct stat st;
  ASSERT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
  EXPECT_GE(st.st_blocks * 512, 10000);
  // A range inside the file changes nothing visible.
  ASSERT_THAT(fallocate(fd_.get(), 0, 100, 100), SyscallSucceeds());
  EXPECT_EQ(Size(), 10000);
  EXPECT_THAT(posix_fallocate(fd_.get(), 0, 20000), 0);
  EXPECT_EQ(Size(), 20000);
}

TEST_F(SeekDataTest, FallocateKeepSizeLeavesSize) {
  ASSERT_THAT(write(fd_.get(), "abc", 3), SyscallSucceeds());
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, 0, 8192), SyscallSucceeds());
  EXPECT_EQ(Size(), 3);
}

TEST_F(SeekDataTest, PunchHoleZeroesRangeAndKeepsSize) {
  std::string data(3 * 4096, 'p');
  ASSERT_THAT(write(fd_.get(), data.data(), data.size()), SyscallSucceeds());
  // PUNCH_HOLE "must be ORed with FALLOC_FL_KEEP_SIZE".
  EXPECT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE, 4096, 4096), SyscallFailsWithErrno(EOPNOTSUPP));
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4000, 4200),
              SyscallSucceeds());
  EXPECT_EQ(Size(), 3 * 4096);
  std::string back(data.size(), '\0');
  ASSERT_THAT(pread(fd_.get(), back.data(), back.size(), 0), SyscallSucceedsWithValue(data.size()));
  EXPECT_EQ(back.substr(0, 4000), std::string(4000, 'p'));
  EXPECT_EQ(back.substr(4000, 4200), std::string(4200, '\0'));
  EXPECT_EQ(back.substr(8200), std::string(data.size() - 8200, 'p'));
}

TEST_F(SeekDataTest, FallocateErrors) {
  // "EINVAL offset was less than 0, or len was less than or equal to 0."
  EXPECT_THAT(fallocate(fd_.get(), 0, -1, 10), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fallocate(fd_.get(), 0, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fallocate(fd_.get(), 0, 0, -5), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fallocate(-1, 0, 0, 10), SyscallFailsWithErrno(EBADF));
  int ro = open(dir_.Join("f").c_str(), O_RDONLY);
  EXPECT_THAT(fallocate(ro, 0, 0, 10), SyscallFailsWithErrno(EBADF));
  close(ro);
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  EXPECT_THAT(fallocate(p[1], 0, 0, 10), SyscallFailsWithErrno(ESPIPE));
  close(p[0]);
  close(p[1]);
  int d = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(fallocate(d, 0, 0, 10), SyscallFailsWithErrno(AnyOf(EBADF, EISDIR)));
  close(d);
  EXPECT_THAT(fallocate(fd_.get(), 0x1000000, 0, 10), SyscallFailsWithErrno(EOPNOTSUPP));
}

}  // namespace
}  // namespace palisade::testing
