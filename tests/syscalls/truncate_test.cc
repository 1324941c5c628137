// truncate(2) and ftruncate(2): growing reads back zeros, shrinking drops
// data, the file offset is untouched, and the documented errors.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;

class TruncateTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.CreateFile("f", "0123456789"); }
  off_t Size() {
    struct stat st;
    if (stat(path_.c_str(), &st) != 0) DieErrno("stat");
    return st.st_size;
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(TruncateTest, ShrinkDropsData) {
  ASSERT_THAT(truncate(path_.c_str(), 4), SyscallSucceeds());
  EXPECT_EQ(Size(), 4);
  EXPECT_EQ(ReadFileOrDie(path_), "0123");
  ASSERT_THAT(truncate(path_.c_str(), 0), SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(path_), "");
}

TEST_F(TruncateTest, GrowReadsZeros) {
  ASSERT_THAT(truncate(path_.c_str(), 4), SyscallSucceeds());
  ASSERT_THAT(truncate(path_.c_str(), 8), SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(path_), std::string("0123\0\0\0\0", 8)) << "old bytes must not reappear";
  ASSERT_THAT(truncate(path_.c_str(), 1 << 20), SyscallSucceeds());
  EXPECT_EQ(Size(), 1 << 20);
  std::string all = ReadFileOrDie(path_);
  EXPECT_EQ(all.find_first_not_of('\0', 4), std::string::npos);
}

TEST_F(TruncateTest, FtruncateKeepsOffset) {
  int fd = open(path_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_THAT(lseek(fd, 8, SEEK_SET), SyscallSucceedsWithValue(8));
  ASSERT_THAT(ftruncate(fd, 2), SyscallSucceeds());
  EXPECT_THAT(lseek(fd, 0, SEEK_CUR), SyscallSucceedsWithValue(8));
  // Writing at offset 8 of a 2-byte file leaves a zero-filled gap.
  ASSERT_THAT(write(fd, "X", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadFileOrDie(path_), std::string("01\0\0\0\0\0\0X", 9));
  close(fd);
}

TEST_F(TruncateTest, ChangesModificationTime) {
  struct timespec old_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), old_times, 0), SyscallSucceeds());
  ASSERT_THAT(truncate(path_.c_str(), 3), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(path_.c_str(), &st), SyscallSucceeds());
  EXPECT_GT(st.st_mtime, 1000);
  EXPECT_GT(st.st_ctime, 1000);
}

TEST_F(TruncateTest, SharedMappingSeesTruncatedSize) {
  int fd = open(path_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_THAT(ftruncate(fd, PageSize() * 2), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(static_cast<size_t>(st.st_size), PageSize() * 2);
  EXPECT_GE(st.st_blocks, 0);
  close(fd);
}

TEST_F(TruncateTest, Errors) {
  // "EINVAL The argument length is negative".
  EXPECT_THAT(truncate(path_.c_str(), -1), SyscallFailsWithErrno(EINVAL));
  int fd = open(path_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_THAT(ftruncate(fd, -1), SyscallFailsWithErrno(EINVAL));
  close(fd);
  // "EBADF or EINVAL fd is not open for writing".
  int ro = open(path_.c_str(), O_RDONLY);
  EXPECT_THAT(ftruncate(ro, 0), SyscallFailsWithErrno(AnyOf(EBADF, EINVAL)));
  close(ro);
  EXPECT_THAT(ftruncate(-1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(truncate(dir_.Join("missing").c_str(), 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(truncate(dir_.path().c_str(), 0), SyscallFailsWithErrno(EISDIR));
  std::string notdir = path_ + "/x";
  EXPECT_THAT(truncate(notdir.c_str(), 0), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(truncate(static_cast<const char*>(BadPointer()), 0), SyscallFailsWithErrno(EFAULT));
  // "EINVAL or EBADF The file descriptor fd does not reference a regular file".
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  EXPECT_THAT(ftruncate(p[1], 0), SyscallFailsWithErrno(EINVAL));
  close(p[0]);
  close(p[1]);
  int d = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(ftruncate(d, 0), SyscallFailsWithErrno(AnyOf(EINVAL, EBADF)));
  close(d);
}

TEST_F(TruncateTest, TruncateFollowsSymlinks) {
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink(path_.c_str(), link.c_str()), SyscallSucceeds());
  ASSERT_THAT(truncate(link.c_str(), 5), SyscallSucceeds());
  EXPECT_EQ(Size(), 5);
}

TEST_F(TruncateTest, OpenWithOTruncEmptiesButOnlyWithWriteAccess) {
  int fd = open(path_.c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  close(fd);
  EXPECT_EQ(Size(), 0);
}

}  // namespace
}  // namespace palisade::testing
