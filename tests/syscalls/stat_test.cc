// stat(2), fstat(2), lstat(2), fstatat(2) (newfstatat) and statx(2).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

class StatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = umask(022);
    file_ = dir_.CreateFile("file", "0123456789");
  }
  void TearDown() override { umask(old_umask_); }

  TempDir dir_;
  std::string file_;
  mode_t old_umask_ = 0;
};

TEST_F(StatTest, RegularFileFields) {
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_size, 10);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_uid, geteuid());
  struct stat dst;
  ASSERT_THAT(stat(dir_.path().c_str(), &dst), SyscallSucceeds());
  // The group is the creator's, or the directory's when it is set-group-ID.
  EXPECT_EQ(st.st_gid, (dst.st_mode & S_ISGID) ? dst.st_gid : getegid());
  EXPECT_EQ(st.st_dev, dst.st_dev);
  EXPECT_NE(st.st_ino, dst.st_ino);
  EXPECT_GT(st.st_blksize, 0);
}

TEST_F(StatTest, BlocksCoverWrittenData) {
  std::string big = dir_.CreateFile("big", std::string(8192, 'b'));
  struct stat st;
  ASSERT_THAT(stat(big.c_str(), &st), SyscallSucceeds());
  EXPECT_GT(st.st_blocks, 0) << "st_blocks counts 512-byte units actually allocated";
}

TEST_F(StatTest, TimesSetByUtimensatAreReported) {
  struct timespec times[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
  ASSERT_THAT(utimensat(AT_FDCWD, file_.c_str(), times, 0), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
  EXPECT_EQ(st.st_atim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
}

TEST_F(StatTest, FstatMatchesStat) {
  int fd = open(file_.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  struct stat a, b;
  ASSERT_THAT(fstat(fd, &a), SyscallSucceeds());
  ASSERT_THAT(stat(file_.c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_dev, b.st_dev);
  EXPECT_EQ(a.st_size, b.st_size);
  EXPECT_EQ(a.st_mode, b.st_mode);
  // The size seen through the descriptor follows writes.
  ASSERT_THAT(pwrite(fd, "x", 1, 0), SyscallFailsWithErrno(EBADF));
  int wfd = open(file_.c_str(), O_WRONLY | O_APPEND);
  ASSERT_THAT(wfd, SyscallSucceeds());
  FileDescriptor wguard(wfd);
  ASSERT_THAT(write(wfd, "abc", 3), SyscallSucceeds());
  ASSERT_THAT(fstat(fd, &a), SyscallSucceeds());
  EXPECT_EQ(a.st_size, 13);
}

TEST_F(StatTest, LstatDescribesTheLinkItself) {
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink(file_.c_str(), link.c_str()), SyscallSucceeds());
  struct stat l, s;
  ASSERT_THAT(lstat(link.c_str(), &l), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(l.st_mode));
  // "The size of a symbolic link is the length of the pathname it
  // contains, without a terminating null byte."
  EXPECT_EQ(l.st_size, static_cast<off_t>(file_.size()));
  ASSERT_THAT(stat(link.c_str(), &s), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(s.st_mode));
  EXPECT_EQ(s.st_size, 10);
  EXPECT_NE(s.st_ino, l.st_ino);
}

TEST_F(StatTest, OtherFileTypes) {
  struct stat st;
  ASSERT_THAT(stat(dir_.path().c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  ASSERT_THAT(fstat(fds[0], &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_THAT(stat("/dev/null", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
}

TEST_F(StatTest, PathErrors) {
  struct stat st;
  EXPECT_THAT(stat(dir_.Join("missing").c_str(), &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(stat("", &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(stat((file_ + "/x").c_str(), &st), SyscallFailsWithErrno(ENOTDIR));
  std::string a = dir_.Join("a"), b = dir_.Join("b");
  ASSERT_THAT(symlink(b.c_str(), a.c_str()), SyscallSucceeds());
  ASSERT_THAT(symlink(a.c_str(), b.c_str()), SyscallSucceeds());
  EXPECT_THAT(stat(a.c_str(), &st), SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(lstat(a.c_str(), &st), SyscallSucceeds());
  EXPECT_THAT(stat(static_cast<const char*>(BadPointer()), &st), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(stat(file_.c_str(), static_cast<struct stat*>(BadPointer())),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(StatTest, FstatBadFdIsEbadf) {
  struct stat st;
  EXPECT_THAT(fstat(-1, &st), SyscallFailsWithErrno(EBADF));
}

TEST_F(StatTest, FstatatRelativeAndNofollow) {
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink("file", link.c_str()), SyscallSucceeds());  // relative target
  int dfd = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  FileDescriptor guard(dfd);
  struct stat st;
  ASSERT_THAT(fstatat(dfd, "link", &st, 0), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  ASSERT_THAT(fstatat(dfd, "link", &st, AT_SYMLINK_NOFOLLOW), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_size, 4);
  EXPECT_THAT(fstatat(dfd, "missing", &st, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(fstatat(-1, "file", &st, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fstatat(dfd, "file", &st, 0x40000000), SyscallFailsWithErrno(EINVAL));
}

TEST_F(StatTest, FstatatEmptyPath) {
  int fd = open(file_.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  struct stat st, ref;
  ASSERT_THAT(fstat(fd, &ref), SyscallSucceeds());
  // "AT_EMPTY_PATH: If pathname is an empty string, operate on the file
  // referred to by dirfd".
  ASSERT_THAT(fstatat(fd, "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_EQ(st.st_ino, ref.st_ino);
  EXPECT_THAT(fstatat(fd, "", &st, 0), SyscallFailsWithErrno(ENOENT));
  // The raw newfstatat syscall behaves the same.
  ASSERT_THAT(syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_EQ(st.st_ino, ref.st_ino);
  // An O_PATH descriptor works too.
  int pfd = open(file_.c_str(), O_PATH);
  ASSERT_THAT(pfd, SyscallSucceeds());
  FileDescriptor pguard(pfd);
  ASSERT_THAT(fstatat(pfd, "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_EQ(st.st_ino, ref.st_ino);
}

TEST_F(StatTest, StatxBasicFieldsMatchStat) {
  struct statx sx;
  memset(&sx, 0xff, sizeof(sx));
  ASSERT_THAT(statx(AT_FDCWD, file_.c_str(), 0, STATX_BASIC_STATS, &sx), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  const unsigned needed = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID |
                          STATX_INO | STATX_SIZE;
  EXPECT_EQ(sx.stx_mask & needed, needed);
  EXPECT_EQ(sx.stx_mode, st.st_mode);
  EXPECT_EQ(sx.stx_ino, st.st_ino);
  EXPECT_EQ(sx.stx_size, 10u);
  EXPECT_EQ(sx.stx_nlink, 1u);
  EXPECT_EQ(sx.stx_uid, st.st_uid);
  EXPECT_EQ(sx.stx_gid, st.st_gid);
  EXPECT_EQ(sx.stx_blksize, static_cast<uint32_t>(st.st_blksize));
  EXPECT_EQ(makedev(sx.stx_dev_major, sx.stx_dev_minor), st.st_dev);
  if (sx.stx_mask & STATX_MTIME) {
    EXPECT_EQ(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
    EXPECT_EQ(sx.stx_mtime.tv_nsec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  }
}

TEST_F(StatTest, StatxEmptyPathAndNofollow) {
  int fd = open(file_.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  struct statx sx;
  ASSERT_THAT(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(sx.stx_mode));
  EXPECT_EQ(sx.stx_size, 10u);
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink(file_.c_str(), link.c_str()), SyscallSucceeds());
  ASSERT_THAT(statx(AT_FDCWD, link.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(sx.stx_mode));
  ASSERT_THAT(statx(AT_FDCWD, link.c_str(), 0, STATX_BASIC_STATS, &sx), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(sx.stx_mode));
}

TEST_F(StatTest, StatxErrors) {
  struct statx sx;
  EXPECT_THAT(statx(AT_FDCWD, dir_.Join("missing").c_str(), 0, STATX_BASIC_STATS, &sx),
              SyscallFailsWithErrno(ENOENT));
  // "EINVAL Reserved flag specified in mask." / "Invalid flag ... in flags."
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), 0, STATX__RESERVED, &sx),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), 0x40000000, STATX_BASIC_STATS, &sx),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(statx(-1, "file", 0, STATX_BASIC_STATS, &sx), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), 0, STATX_BASIC_STATS,
                    static_cast<struct statx*>(BadPointer())),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(StatTest, HardLinkCountFollowsLinks) {
  std::string second = dir_.Join("second");
  ASSERT_THAT(link(file_.c_str(), second.c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 2u);
  ASSERT_THAT(unlink(second.c_str()), SyscallSucceeds());
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 1u);
}

}  // namespace
}  // namespace palisade::testing
