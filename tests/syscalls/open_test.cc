// open(2), openat(2) and creat(2), from the man page: creation flags, file
// status flags, and the path-walk errors.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

class OpenTest : public ::testing::Test {
 protected:
  void SetUp() override { old_umask_ = umask(022); }
  void TearDown() override { umask(old_umask_); }

  mode_t ModeOf(const std::string& path) {
    struct stat st {};
    EXPECT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
    return st.st_mode;
  }

  TempDir dir_;
  mode_t old_umask_ = 0;
};

TEST_F(OpenTest, CreatUsesModeMinusUmask) {
  std::string p = dir_.Join("new");
  int fd = open(p.c_str(), O_WRONLY | O_CREAT, 0666);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  // "the mode of the created file is (mode & ~umask)".
  EXPECT_EQ(ModeOf(p) & 07777, 0644u);
  EXPECT_TRUE(S_ISREG(ModeOf(p)));
}

TEST_F(OpenTest, MissingFileWithoutCreatIsEnoent) {
  EXPECT_THAT(open(dir_.Join("missing").c_str(), O_RDONLY), SyscallFailsWithErrno(ENOENT));
  // O_CREAT does not create missing parent directories.
  EXPECT_THAT(open(dir_.Join("nodir/file").c_str(), O_WRONLY | O_CREAT, 0644),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(OpenTest, EmptyPathIsEnoent) {
  EXPECT_THAT(open("", O_RDONLY), SyscallFailsWithErrno(ENOENT));
}

TEST_F(OpenTest, CreatExclOnExistingIsEexist) {
  std::string p = dir_.CreateFile("f", "x");
  EXPECT_THAT(open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644),
              SyscallFailsWithErrno(EEXIST));
  // "If pathname already exists, then open() fails with the error EEXIST";
  // a symbolic link counts, wherever it points, even nowhere.
  std::string link = dir_.Join("dangling");
  ASSERT_THAT(symlink(dir_.Join("nothing-here").c_str(), link.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(link.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644),
              SyscallFailsWithErrno(EEXIST));
  struct stat st;
  EXPECT_THAT(stat(dir_.Join("nothing-here").c_str(), &st), SyscallFailsWithErrno(ENOENT));
}

TEST_F(OpenTest, CreatExclOnNewFileSucceeds) {
  std::string p = dir_.Join("fresh");
  int fd = open(p.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_THAT(fd, SyscallSucceeds());
  close(fd);
  EXPECT_EQ(ModeOf(p) & 07777, 0600u);
}

TEST_F(OpenTest, CreatWithoutExclOpensExistingFile) {
  std::string p = dir_.CreateFile("f", "keep");
  int fd = open(p.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  char buf[8];
  EXPECT_THAT(read(fd, buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ModeOf(p) & 07777, 0644u) << "mode applies only when the file is created";
}

TEST_F(OpenTest, TruncEmptiesExistingFile) {
  std::string p = dir_.CreateFile("f", "0123456789");
  int fd = open(p.c_str(), O_WRONLY | O_TRUNC);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  struct stat st;
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(OpenTest, AppendWritesAtEndAfterSeek) {
  std::string p = dir_.CreateFile("f", "abc");
  int fd = open(p.c_str(), O_RDWR | O_APPEND);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  ASSERT_THAT(lseek(fd, 0, SEEK_SET), SyscallSucceeds());
  // "Before each write(2), the file offset is positioned at the end".
  EXPECT_THAT(write(fd, "de", 2), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd, 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  EXPECT_EQ(ReadFileOrDie(p), "abcde");
}

TEST_F(OpenTest, DirectoryFlag) {
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(open(f.c_str(), O_RDONLY | O_DIRECTORY), SyscallFailsWithErrno(ENOTDIR));
  int fd = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

TEST_F(OpenTest, FileAsPathComponentIsEnotdir) {
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(open((f + "/x").c_str(), O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open((f + "/x").c_str(), O_WRONLY | O_CREAT, 0644),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(OpenTest, DirectoryForWritingIsEisdir) {
  // "EISDIR pathname refers to a directory and the access requested
  // involved writing".
  EXPECT_THAT(open(dir_.path().c_str(), O_WRONLY), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(open(dir_.path().c_str(), O_RDWR), SyscallFailsWithErrno(EISDIR));
  int fd = open(dir_.path().c_str(), O_RDONLY);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

TEST_F(OpenTest, CreatOnExistingDirectoryIsEisdir) {
  std::string d = dir_.CreateDir("d");
  EXPECT_THAT(open(d.c_str(), O_WRONLY | O_CREAT, 0644), SyscallFailsWithErrno(EISDIR));
}

TEST_F(OpenTest, NofollowOnSymlinkIsEloop) {
  std::string target = dir_.CreateFile("target", "t");
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink(target.c_str(), link.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(link.c_str(), O_RDONLY | O_NOFOLLOW), SyscallFailsWithErrno(ELOOP));
  int fd = open(link.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  close(fd);
  // "Symbolic links in earlier components of the pathname will still be
  // followed."
  std::string sub = dir_.CreateDir("sub");
  dir_.CreateFile("sub/inner", "i");
  std::string dirlink = dir_.Join("dirlink");
  ASSERT_THAT(symlink(sub.c_str(), dirlink.c_str()), SyscallSucceeds());
  fd = open((dirlink + "/inner").c_str(), O_RDONLY | O_NOFOLLOW);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

TEST_F(OpenTest, SymlinkLoopIsEloop) {
  std::string a = dir_.Join("a"), b = dir_.Join("b");
  ASSERT_THAT(symlink(b.c_str(), a.c_str()), SyscallSucceeds());
  ASSERT_THAT(symlink(a.c_str(), b.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(a.c_str(), O_RDONLY), SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(open((a + "/x").c_str(), O_RDONLY), SyscallFailsWithErrno(ELOOP));
}

TEST_F(OpenTest, CloexecFlag) {
  std::string p = dir_.CreateFile("f");
  int with = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  int without = open(p.c_str(), O_RDONLY);
  ASSERT_THAT(with, SyscallSucceeds());
  ASSERT_THAT(without, SyscallSucceeds());
  FileDescriptor g1(with), g2(without);
  EXPECT_THAT(fcntl(with, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(without, F_GETFD), SyscallSucceedsWithValue(0));
}

TEST_F(OpenTest, AccessModeIsReportedByGetfl) {
  std::string p = dir_.CreateFile("f");
  for (int mode : {O_RDONLY, O_WRONLY, O_RDWR}) {
    int fd = open(p.c_str(), mode);
    ASSERT_THAT(fd, SyscallSucceeds());
    FileDescriptor guard(fd);
    EXPECT_THAT(fcntl(fd, F_GETFL), SyscallSucceedsWithValue(::testing::Truly(
                                        [mode](int fl) { return (fl & O_ACCMODE) == mode; })));
  }
}

TEST_F(OpenTest, ReturnsLowestFreeDescriptor) {
  std::string p = dir_.CreateFile("f");
  int a = open(p.c_str(), O_RDONLY);
  int b = open(p.c_str(), O_RDONLY);
  ASSERT_THAT(a, SyscallSucceeds());
  ASSERT_THAT(b, SyscallSucceeds());
  FileDescriptor gb(b);
  ASSERT_LT(a, b);
  close(a);
  // "The file descriptor returned by a successful call will be the
  // lowest-numbered file descriptor not currently open".
  int c = open(p.c_str(), O_RDONLY);
  EXPECT_EQ(c, a);
  if (c >= 0) close(c);
}

TEST_F(OpenTest, NameTooLong) {
  std::string longname(NAME_MAX + 1, 'n');
  EXPECT_THAT(open(dir_.Join(longname).c_str(), O_RDONLY), SyscallFailsWithErrno(ENAMETOOLONG));
  std::string longpath(PATH_MAX + 10, 'p');
  EXPECT_THAT(open(longpath.c_str(), O_RDONLY), SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST_F(OpenTest, BadPathPointerIsEfault) {
  EXPECT_THAT(open(static_cast<const char*>(BadPointer()), O_RDONLY),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(OpenTest, OpenatRelativeToDirfd) {
  std::string d = dir_.CreateDir("d");
  dir_.CreateFile("d/f", "rel");
  int dfd = open(d.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  FileDescriptor dguard(dfd);
  int fd = openat(dfd, "f", O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  char buf[8];
  EXPECT_THAT(read(fd, buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  // Creating relative to the dirfd puts the file in that directory.
  int nfd = openat(dfd, "g", O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_THAT(nfd, SyscallSucceeds());
  close(nfd);
  struct stat st;
  EXPECT_THAT(stat((d + "/g").c_str(), &st), SyscallSucceeds());
}

TEST_F(OpenTest, OpenatAbsolutePathIgnoresDirfd) {
  std::string f = dir_.CreateFile("f", "abs");
  int fd = openat(-1, f.c_str(), O_RDONLY);  // "dirfd is ignored".
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

TEST_F(OpenTest, OpenatErrors) {
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(openat(-1, "f", O_RDONLY), SyscallFailsWithErrno(EBADF));
  int ffd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(ffd, SyscallSucceeds());
  FileDescriptor guard(ffd);
  // "ENOTDIR pathname is a relative pathname and dirfd is a file
  // descriptor referring to a file other than a directory."
  EXPECT_THAT(openat(ffd, "x", O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(OpenTest, OpenatAtFdcwdUsesWorkingDirectory) {
  char old[PATH_MAX];
  ASSERT_NE(getcwd(old, sizeof(old)), nullptr);
  dir_.CreateFile("here", "cwd");
  ASSERT_THAT(chdir(dir_.path().c_str()), SyscallSucceeds());
  int fd = openat(AT_FDCWD, "here", O_RDONLY);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
  ASSERT_THAT(chdir(old), SyscallSucceeds());
}

TEST_F(OpenTest, CreatIsOpenWithCreatWronlyTrunc) {
  std::string p = dir_.CreateFile("f", "old contents");
  int fd = creat(p.c_str(), 0600);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  EXPECT_THAT(fcntl(fd, F_GETFL), SyscallSucceedsWithValue(::testing::Truly(
                                      [](int fl) { return (fl & O_ACCMODE) == O_WRONLY; })));
  struct stat st;
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
  char c;
  EXPECT_THAT(read(fd, &c, 1), SyscallFailsWithErrno(EBADF));
}

TEST_F(OpenTest, UnlinkedFileStaysUsableThroughDescriptor) {
  std::string p = dir_.CreateFile("f", "still here");
  int fd = open(p.c_str(), O_RDWR);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  ASSERT_THAT(unlink(p.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(p.c_str(), O_RDONLY), SyscallFailsWithErrno(ENOENT));
  char buf[16] = {};
  EXPECT_THAT(read(fd, buf, sizeof(buf)), SyscallSucceedsWithValue(10));
  EXPECT_STREQ(buf, "still here");
}

}  // namespace
}  // namespace palisade::testing
