// open(2) flags beyond the basics of open_test: O_PATH, O_TMPFILE,
// O_EXCL with symlinks, O_NOFOLLOW only for the last component,
// O_DIRECTORY|O_CREAT, O_TRUNC on read-only opens, AT_EMPTY_PATH and
// openat() dirfd rules.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

class OpenFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override { file_ = dir_.CreateFile("file", "contents"); }
  TempDir dir_;
  std::string file_;
};

TEST_F(OpenFlagsTest, OPathDescriptorCannotReadOrWrite) {
  // "O_PATH ... The file itself is not opened, and other file operations
  // (e.g., read(2), write(2), fchmod(2), ...) fail with the error EBADF."
  int fd = open(file_.c_str(), O_PATH);
  ASSERT_THAT(fd, SyscallSucceeds());
  char c;
  EXPECT_THAT(read(fd, &c, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(fd, "x", 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fchmod(fd, 0600), SyscallFailsWithErrno(EBADF));
  // fstat, dup, fcntl(F_GETFL) and close do work.
  struct stat st;
  EXPECT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 8);
  int d = dup(fd);
  EXPECT_THAT(d, SyscallSucceeds());
  close(d);
  int fl = fcntl(fd, F_GETFL);
  ASSERT_THAT(fl, SyscallSucceeds());
  EXPECT_TRUE(fl & O_PATH);
  close(fd);
}

TEST_F(OpenFlagsTest, OPathDirectoryWorksAsDirfd) {
  int dfd = open(dir_.path().c_str(), O_PATH | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  int fd = openat(dfd, "file", O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(read(fd, buf, 8), SyscallSucceedsWithValue(8));
  close(fd);
  struct stat st;
  EXPECT_THAT(fstatat(dfd, "file", &st, 0), SyscallSucceeds());
  // getdents on an O_PATH directory fails with EBADF.
  char dents[256];
  EXPECT_THAT(syscall(SYS_getdents64, dfd, dents, sizeof(dents)), SyscallFailsWithErrno(EBADF));
  close(dfd);
}

TEST_F(OpenFlagsTest, OPathOnSymlinkWithNofollowRefersToLink) {
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink("file", link.c_str()), SyscallSucceeds());
  int fd = open(link.c_str(), O_PATH | O_NOFOLLOW);
  ASSERT_THAT(fd, SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstatat(fd, "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  char target[16] = {};
  EXPECT_THAT(readlinkat(fd, "", target, sizeof(target)), SyscallSucceedsWithValue(4));
  EXPECT_STREQ(target, "file");
  close(fd);
}

TEST_F(OpenFlagsTest, OTmpfileCreatesUnnamedFile) {
  int fd = open(dir_.path().c_str(), O_TMPFILE | O_RDWR, 0600);
  if (fd < 0 && errno == EOPNOTSUPP) GTEST_SKIP() << "filesystem lacks O_TMPFILE";
  ASSERT_THAT(fd, SyscallSucceeds());
  ASSERT_THAT(write(fd, "tmp", 3), SyscallSucceedsWithValue(3));
  struct stat st;
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_nlink, 0u);
  // It can be given a name with linkat(AT_EMPTY_PATH) ... via /proc.
  std::string named = dir_.Join("named");
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ASSERT_THAT(linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, named.c_str(), AT_SYMLINK_FOLLOW),
              SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(named), "tmp");
  close(fd);
  // "O_TMPFILE ... must be specified with one of O_RDWR or O_WRONLY".
  EXPECT_THAT(open(dir_.path().c_str(), O_TMPFILE | O_RDONLY, 0600), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(open(file_.c_str(), O_TMPFILE | O_RDWR, 0600), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(OpenFlagsTest, OTmpfileWithExclCannotBeLinked) {
  int fd = open(dir_.path().c_str(), O_TMPFILE | O_RDWR | O_EXCL, 0600);
  if (fd < 0 && errno == EOPNOTSUPP) GTEST_SKIP() << "filesystem lacks O_TMPFILE";
  ASSERT_THAT(fd, SyscallSucceeds());
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  EXPECT_THAT(linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, dir_.Join("n").c_str(), AT_SYMLINK_FOLLOW),
              SyscallFailsWithErrno(ENOENT));
  close(fd);
}

TEST_F(OpenFlagsTest, ExclDoesNotFollowSymlinks) {
  // "If O_EXCL and O_CREAT are set, and pathname is a symbolic link, then
  // open() fails with EEXIST" -- even for a dangling link.
  std::string dangling = dir_.Join("dangling");
  ASSERT_THAT(symlink(dir_.Join("nowhere").c_str(), dangling.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(dangling.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), SyscallFailsWithErrno(EEXIST));
  struct stat st;
  EXPECT_THAT(stat(dir_.Join("nowhere").c_str(), &st), SyscallFailsWithErrno(ENOENT));
  // Without O_EXCL, O_CREAT through a dangling link creates the target.
  int fd = open(dangling.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_THAT(fd, SyscallSucceeds());
  close(fd);
  EXPECT_THAT(stat(dir_.Join("nowhere").c_str(), &st), SyscallSucceeds());
}

TEST_F(OpenFlagsTest, NofollowAppliesToLastComponentOnly) {
  std::string dlink = dir_.Join("dlink");
  ASSERT_THAT(symlink(dir_.path().c_str(), dlink.c_str()), SyscallSucceeds());
  int fd = open((dlink + "/file").c_str(), O_RDONLY | O_NOFOLLOW);
  EXPECT_THAT(fd, SyscallSucceeds());
  close(fd);
  EXPECT_THAT(open(dlink.c_str(), O_RDONLY | O_NOFOLLOW), SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(open(dlink.c_str(), O_RDONLY | O_NOFOLLOW | O_DIRECTORY),
              SyscallFailsWithErrno(AnyOf(ELOOP, ENOTDIR)));
}

TEST_F(OpenFlagsTest, DirectoryFlagWithCreat) {
  // Since Linux 6.4 O_CREAT|O_DIRECTORY is EINVAL; before, it created a
  // regular file or failed with ENOTDIR. It never creates a directory.
  std::string p = dir_.Join("newdir");
  int fd = open(p.c_str(), O_CREAT | O_DIRECTORY | O_RDONLY, 0755);
  const int err = errno;
  if (fd >= 0) {
    close(fd);
  } else {
    EXPECT_TRUE(err == EINVAL || err == ENOTDIR) << ErrnoName(err);
  }
  struct stat st;
  if (stat(p.c_str(), &st) == 0) {
    EXPECT_FALSE(S_ISDIR(st.st_mode));
  }
  EXPECT_THAT(open(file_.c_str(), O_RDONLY | O_DIRECTORY), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(OpenFlagsTest, TrailingSlashOnFileIsEnotdirOrEisdir) {
  EXPECT_THAT(open((file_ + "/").c_str(), O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open(dir_.Join("new/").c_str(), O_CREAT | O_WRONLY, 0644),
              SyscallFailsWithErrno(EISDIR));
}

TEST_F(OpenFlagsTest, OpenatDirfdMustBeADirectory) {
  int f = open(file_.c_str(), O_RDONLY);
  ASSERT_GE(f, 0);
  EXPECT_THAT(openat(f, "x", O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(openat(-5, "x", O_RDONLY), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(openat(987, "x", O_RDONLY), SyscallFailsWithErrno(EBADF));
  // An absolute path ignores even a bad dirfd.
  int fd = openat(987, file_.c_str(), O_RDONLY);
  EXPECT_THAT(fd, SyscallSucceeds());
  close(fd);
  close(f);
}

TEST_F(OpenFlagsTest, AppendModeIgnoresSeeks) {
  int fd = open(file_.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_THAT(lseek(fd, 0, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(fd, "+1", 2), SyscallSucceedsWithValue(2));
  // The offset after an appending write is the new end of file.
  EXPECT_THAT(lseek(fd, 0, SEEK_CUR), SyscallSucceedsWithValue(10));
  // Turning O_APPEND off with F_SETFL makes writes positional again.
  ASSERT_THAT(fcntl(fd, F_SETFL, 0), SyscallSucceeds());
  ASSERT_THAT(lseek(fd, 0, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(fd, "C", 1), SyscallSucceedsWithValue(1));
  close(fd);
  EXPECT_EQ(ReadFileOrDie(file_), "Contents+1");
}

TEST_F(OpenFlagsTest, TwoAppendersInterleaveWithoutOverwriting) {
  int a = open(file_.c_str(), O_WRONLY | O_APPEND);
  int b = open(file_.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (int i = 0; i < 10; i++) {
    ASSERT_THAT(write(a, "a", 1), SyscallSucceeds());
    ASSERT_THAT(write(b, "b", 1), SyscallSucceeds());
  }
  close(a);
  close(b);
  EXPECT_EQ(ReadFileOrDie(file_).size(), 28u);
}

TEST_F(OpenFlagsTest, TruncWithReadOnlyTruncatesOnLinux) {
  // "The (undefined) effect of O_RDONLY | O_TRUNC varies among
  // implementations. On many systems the file is actually truncated."
  int fd = open(file_.c_str(), O_RDONLY | O_TRUNC);
  ASSERT_THAT(fd, SyscallSucceeds());
  close(fd);
  EXPECT_EQ(ReadFileOrDie(file_), "");
}

TEST_F(OpenFlagsTest, UnknownFlagsAreIgnored) {
  // "unknown flags are ignored" by open() (openat2 rejects them).
  int fd = open(file_.c_str(), O_RDONLY | 0x40000000);
  EXPECT_THAT(fd, SyscallSucceeds());
  close(fd);
}

TEST_F(OpenFlagsTest, InvalidAccessModeThree) {
  // Access mode 3 is a Linux extension: needs read and write permission,
  // allows neither read nor write (used for ioctl-only opens).
  int fd = open(file_.c_str(), 3);
  if (fd < 0) {
    EXPECT_EQ(errno, EINVAL);
    return;
  }
  char c;
  EXPECT_THAT(read(fd, &c, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(fd, "x", 1), SyscallFailsWithErrno(EBADF));
  close(fd);
}

TEST_F(OpenFlagsTest, EmptyPathWithAtEmptyPath) {
  int fd = open(file_.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  struct stat st;
  EXPECT_THAT(fstatat(fd, "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 8);
  EXPECT_THAT(fstatat(fd, "", &st, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(fchownat(fd, "", 0, 0, AT_EMPTY_PATH), SyscallSucceeds());
  close(fd);
}

}  // namespace
}  // namespace palisade::testing
