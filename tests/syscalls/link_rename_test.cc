// link(2), symlink(2), readlink(2), unlink(2)/unlinkat(2), rename(2) and
// renameat2(2) with RENAME_NOREPLACE and RENAME_EXCHANGE.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
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

ino_t InodeOf(const std::string& p) {
  struct stat st {};
  EXPECT_THAT(lstat(p.c_str(), &st), SyscallSucceeds()) << p;
  return st.st_ino;
}

bool Exists(const std::string& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0;
}

class LinkRenameTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(LinkRenameTest, HardLinkSharesInode) {
  std::string a = dir_.CreateFile("a", "shared");
  std::string b = dir_.Join("b");
  ASSERT_THAT(link(a.c_str(), b.c_str()), SyscallSucceeds());
  EXPECT_EQ(InodeOf(a), InodeOf(b));
  struct stat st;
  ASSERT_THAT(stat(b.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 2u);
  ASSERT_THAT(unlink(a.c_str()), SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(b), "shared");
}

TEST_F(LinkRenameTest, LinkErrors) {
  std::string a = dir_.CreateFile("a");
  std::string b = dir_.CreateFile("b");
  std::string d = dir_.CreateDir("d");
  EXPECT_THAT(link(a.c_str(), b.c_str()), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(link(dir_.Join("missing").c_str(), dir_.Join("c").c_str()),
              SyscallFailsWithErrno(ENOENT));
  // "EPERM oldpath is a directory."
  EXPECT_THAT(link(d.c_str(), dir_.Join("dlink").c_str()), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(link(a.c_str(), dir_.Join("nodir/c").c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(link(a.c_str(), (b + "/c").c_str()), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(LinkRenameTest, SymlinkAndReadlink) {
  std::string link = dir_.Join("l");
  const std::string target = "some/relative/target";
  ASSERT_THAT(symlink(target.c_str(), link.c_str()), SyscallSucceeds());
  char buf[256];
  memset(buf, 'X', sizeof(buf));
  // "readlink() does not append a terminating null byte".
  ASSERT_THAT(readlink(link.c_str(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(static_cast<ssize_t>(target.size())));
  EXPECT_EQ(std::string(buf, target.size()), target);
  EXPECT_EQ(buf[target.size()], 'X');
  // "If the buffer is too small ... the contents will be truncated."
  EXPECT_THAT(readlink(link.c_str(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "some");
}

TEST_F(LinkRenameTest, ReadlinkatRelativeToDirfd) {
  ASSERT_THAT(symlink("tgt", dir_.Join("l").c_str()), SyscallSucceeds());
  int dfd = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  FileDescriptor guard(dfd);
  char buf[16];
  EXPECT_THAT(readlinkat(dfd, "l", buf, sizeof(buf)), SyscallSucceedsWithValue(3));
}

TEST_F(LinkRenameTest, ReadlinkErrors) {
  std::string f = dir_.CreateFile("f");
  char buf[64];
  // "EINVAL The named file (i.e., the final filename component) is not a
  // symbolic link."
  EXPECT_THAT(readlink(f.c_str(), buf, sizeof(buf)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readlink(dir_.Join("missing").c_str(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOENT));
  ASSERT_THAT(symlink("t", dir_.Join("l").c_str()), SyscallSucceeds());
  EXPECT_THAT(readlink(dir_.Join("l").c_str(), buf, 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(LinkRenameTest, SymlinkErrorsAndDanglingLinks) {
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(symlink("anything", f.c_str()), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(symlink("", dir_.Join("empty").c_str()), SyscallFailsWithErrno(ENOENT));
  // A dangling link is fine to create and to lstat, not to follow.
  std::string dangling = dir_.Join("dangling");
  ASSERT_THAT(symlink(dir_.Join("nowhere").c_str(), dangling.c_str()), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(lstat(dangling.c_str(), &st), SyscallSucceeds());
  EXPECT_THAT(stat(dangling.c_str(), &st), SyscallFailsWithErrno(ENOENT));
}

TEST_F(LinkRenameTest, UnlinkErrors) {
  std::string d = dir_.CreateDir("d");
  EXPECT_THAT(unlink(dir_.Join("missing").c_str()), SyscallFailsWithErrno(ENOENT));
  // "EISDIR pathname refers to a directory. (This is the non-POSIX value
  // returned since Linux 2.1.132.)"
  EXPECT_THAT(unlink(d.c_str()), SyscallFailsWithErrno(EISDIR));
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(unlink((f + "/x").c_str()), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(LinkRenameTest, UnlinkRemovesSymlinkNotTarget) {
  std::string f = dir_.CreateFile("f", "data");
  std::string l = dir_.Join("l");
  ASSERT_THAT(symlink(f.c_str(), l.c_str()), SyscallSucceeds());
  ASSERT_THAT(unlink(l.c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(l));
  EXPECT_TRUE(Exists(f));
}

TEST_F(LinkRenameTest, UnlinkedOpenFileHasNoLinks) {
  std::string f = dir_.CreateFile("f", "data");
  int fd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  ASSERT_THAT(unlink(f.c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
  char buf[8];
  EXPECT_THAT(read(fd, buf, sizeof(buf)), SyscallSucceedsWithValue(4));
}

TEST_F(LinkRenameTest, Unlinkat) {
  std::string d = dir_.CreateDir("d");
  dir_.CreateFile("f");
  int dfd = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  FileDescriptor guard(dfd);
  EXPECT_THAT(unlinkat(dfd, "d", 0), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(unlinkat(dfd, "f", AT_REMOVEDIR), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(unlinkat(dfd, "f", 0x40000000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(unlinkat(dfd, "d", AT_REMOVEDIR), SyscallSucceeds());
  EXPECT_THAT(unlinkat(dfd, "f", 0), SyscallSucceeds());
  EXPECT_FALSE(Exists(d));
  EXPECT_FALSE(Exists(dir_.Join("f")));
}

TEST_F(LinkRenameTest, RenameMovesFile) {
  std::string a = dir_.CreateFile("a", "content");
  std::string d = dir_.CreateDir("d");
  ino_t ino = InodeOf(a);
  ASSERT_THAT(rename(a.c_str(), (d + "/b").c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(a));
  EXPECT_EQ(InodeOf(d + "/b"), ino);
  EXPECT_EQ(ReadFileOrDie(d + "/b"), "content");
}

TEST_F(LinkRenameTest, RenameReplacesExistingFile) {
  std::string a = dir_.CreateFile("a", "new");
  std::string b = dir_.CreateFile("b", "old");
  ino_t ino = InodeOf(a);
  ASSERT_THAT(rename(a.c_str(), b.c_str()), SyscallSucceeds());
  EXPECT_EQ(InodeOf(b), ino);
  EXPECT_EQ(ReadFileOrDie(b), "new");
  EXPECT_FALSE(Exists(a));
}

TEST_F(LinkRenameTest, RenameOfHardLinksToSameFileDoesNothing) {
  std::string a = dir_.CreateFile("a");
  std::string b = dir_.Join("b");
  ASSERT_THAT(link(a.c_str(), b.c_str()), SyscallSucceeds());
  // "If oldpath and newpath are existing hard links referring to the same
  // file, then rename() does nothing, and returns a success status."
  ASSERT_THAT(rename(a.c_str(), b.c_str()), SyscallSucceeds());
  EXPECT_TRUE(Exists(a));
  EXPECT_TRUE(Exists(b));
}

TEST_F(LinkRenameTest, RenameDirectories) {
  std::string d1 = dir_.CreateDir("d1");
  std::string d2 = dir_.CreateDir("d2");
  dir_.CreateFile("d1/inside", "x");
  // An empty directory can be replaced by a directory.
  ASSERT_THAT(rename(d1.c_str(), d2.c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(d1));
  EXPECT_TRUE(Exists(d2 + "/inside"));
}

TEST_F(LinkRenameTest, RenameErrors) {
  std::string d = dir_.CreateDir("d");
  std::string full = dir_.CreateDir("full");
  dir_.CreateFile("full/x");
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(rename(d.c_str(), full.c_str()),
              SyscallFailsWithErrno(::testing::AnyOf(ENOTEMPTY, EEXIST)));
  // "EISDIR newpath is an existing directory, but oldpath is not".
  EXPECT_THAT(rename(f.c_str(), d.c_str()), SyscallFailsWithErrno(EISDIR));
  // "ENOTDIR ... oldpath is a directory, and newpath exists but is not a
  // directory."
  EXPECT_THAT(rename(d.c_str(), f.c_str()), SyscallFailsWithErrno(ENOTDIR));
  // "EINVAL The new pathname contained a path prefix of the old".
  EXPECT_THAT(rename(d.c_str(), (d + "/sub").c_str()), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(rename(dir_.Join("missing").c_str(), dir_.Join("x").c_str()),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(rename(f.c_str(), dir_.Join("nodir/x").c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_TRUE(Exists(d));
  EXPECT_TRUE(Exists(f));
}

TEST_F(LinkRenameTest, RenameSymlinkRenamesLinkItself) {
  std::string f = dir_.CreateFile("f");
  std::string l = dir_.Join("l");
  ASSERT_THAT(symlink(f.c_str(), l.c_str()), SyscallSucceeds());
  ASSERT_THAT(rename(l.c_str(), dir_.Join("m").c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(lstat(dir_.Join("m").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(Exists(f));
}

TEST_F(LinkRenameTest, Renameat2Noreplace) {
  std::string a = dir_.CreateFile("a", "A");
  std::string b = dir_.CreateFile("b", "B");
  // "RENAME_NOREPLACE Don't overwrite newpath ... return an error if
  // newpath already exists." (EEXIST)
  EXPECT_THAT(renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_NOREPLACE),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_EQ(ReadFileOrDie(b), "B");
  std::string c = dir_.Join("c");
  EXPECT_THAT(renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, c.c_str(), RENAME_NOREPLACE),
              SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(c), "A");
  EXPECT_FALSE(Exists(a));
}

TEST_F(LinkRenameTest, Renameat2Exchange) {
  std::string a = dir_.CreateFile("a", "A");
  std::string d = dir_.CreateDir("d");
  dir_.CreateFile("d/inner");
  ino_t ia = InodeOf(a), id = InodeOf(d);
  // "RENAME_EXCHANGE Atomically exchange oldpath and newpath. Both pathnames
  // must exist but may be of different types".
  ASSERT_THAT(renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, d.c_str(), RENAME_EXCHANGE),
              SyscallSucceeds());
  EXPECT_EQ(InodeOf(a), id);
  EXPECT_EQ(InodeOf(d), ia);
  EXPECT_TRUE(Exists(a + "/inner"));
  EXPECT_EQ(ReadFileOrDie(d), "A");
}

TEST_F(LinkRenameTest, Renameat2Errors) {
  std::string a = dir_.CreateFile("a");
  std::string b = dir_.CreateFile("b");
  EXPECT_THAT(renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, dir_.Join("none").c_str(),
                        RENAME_EXCHANGE),
              SyscallFailsWithErrno(ENOENT));
  // "EINVAL Both RENAME_NOREPLACE and RENAME_EXCHANGE were specified."
  EXPECT_THAT(renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(),
                        RENAME_NOREPLACE | RENAME_EXCHANGE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), 0x40000000),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(renameat2(-1, "a", AT_FDCWD, b.c_str(), 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(LinkRenameTest, RenameatRelativeToDirfds) {
  std::string d1 = dir_.CreateDir("d1");
  std::string d2 = dir_.CreateDir("d2");
  dir_.CreateFile("d1/f", "moved");
  int fd1 = open(d1.c_str(), O_RDONLY | O_DIRECTORY);
  int fd2 = open(d2.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(fd1, SyscallSucceeds());
  ASSERT_THAT(fd2, SyscallSucceeds());
  FileDescriptor g1(fd1), g2(fd2);
  ASSERT_THAT(renameat(fd1, "f", fd2, "g"), SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(d2 + "/g"), "moved");
}

}  // namespace
}  // namespace palisade::testing
