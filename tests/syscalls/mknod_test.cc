// mknod(2)/mknodat(2): regular files, FIFOs and device nodes, st_rdev, and
// the documented errors (EEXIST, EINVAL, EPERM without CAP_MKNOD).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

class MknodTest : public ::testing::Test {
 protected:
  void SetUp() override { old_ = umask(022); }
  void TearDown() override { umask(old_); }
  TempDir dir_;
  mode_t old_ = 0;
};

TEST_F(MknodTest, RegularFile) {
  std::string p = dir_.Join("reg");
  ASSERT_THAT(mknod(p.c_str(), S_IFREG | 0666, 0), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(p.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "umask applies";
  EXPECT_EQ(st.st_size, 0);
  // "If the file type is zero, a regular file is created".
  std::string z = dir_.Join("zero");
  ASSERT_THAT(mknod(z.c_str(), 0600, 0), SyscallSucceeds());
  ASSERT_THAT(stat(z.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(MknodTest, CharacterAndBlockDevicesRecordRdev) {
  if (getuid() != 0) GTEST_SKIP() << "needs CAP_MKNOD";
  std::string c = dir_.Join("chr"), b = dir_.Join("blk");
  ASSERT_THAT(mknod(c.c_str(), S_IFCHR | 0600, makedev(1, 3)), SyscallSucceeds());
  ASSERT_THAT(mknod(b.c_str(), S_IFBLK | 0600, makedev(7, 42)), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(c.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
  ASSERT_THAT(stat(b.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 7u);
  EXPECT_EQ(minor(st.st_rdev), 42u);
  // A device node can be renamed and removed like any other entry.
  std::string moved = dir_.Join("chr2");
  EXPECT_THAT(rename(c.c_str(), moved.c_str()), SyscallSucceeds());
  EXPECT_THAT(unlink(moved.c_str()), SyscallSucceeds());
}

TEST_F(MknodTest, DevicesNeedCapMknod) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to drop to another uid";
  std::string p = dir_.Join("dev");
  ASSERT_THAT(chmod(dir_.path().c_str(), 0777), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    errno = 0;
    CHILD_CHECK(mknod(p.c_str(), S_IFCHR | 0600, makedev(1, 3)) == -1 && errno == EPERM);
    // FIFOs and regular files need no privilege.
    CHILD_CHECK(mknod((p + "fifo").c_str(), S_IFIFO | 0600, 0) == 0);
    CHILD_CHECK(mknod((p + "reg").c_str(), S_IFREG | 0600, 0) == 0);
    return 0;
  }), 0));
}

TEST_F(MknodTest, MknodatRelativeToDirfd) {
  int dfd = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dfd, 0);
  ASSERT_THAT(mknodat(dfd, "viaat", S_IFIFO | 0600, 0), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(fstatat(dfd, "viaat", &st, 0), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_THAT(mknodat(-5, "x", S_IFIFO | 0600, 0), SyscallFailsWithErrno(EBADF));
  close(dfd);
}

TEST_F(MknodTest, Errors) {
  std::string p = dir_.Join("e");
  ASSERT_THAT(mknod(p.c_str(), S_IFREG | 0600, 0), SyscallSucceeds());
  EXPECT_THAT(mknod(p.c_str(), S_IFREG | 0600, 0), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mknod(dir_.path().c_str(), S_IFIFO | 0600, 0), SyscallFailsWithErrno(EEXIST));
  // "EINVAL mode requested creation of something other than a regular
  // file, device special file, FIFO or socket."
  EXPECT_THAT(mknod(dir_.Join("d").c_str(), S_IFDIR | 0700, 0), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(mknod(dir_.Join("l").c_str(), S_IFLNK | 0700, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mknod(dir_.Join("x").c_str(), 0170000, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mknod(dir_.Join("no/dir").c_str(), S_IFREG | 0600, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(mknod((p + "/sub").c_str(), S_IFREG | 0600, 0), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(mknod(static_cast<const char*>(BadPointer()), S_IFREG | 0600, 0), SyscallFailsWithErrno(EFAULT));
}

TEST_F(MknodTest, SocketNode) {
  std::string p = dir_.Join("sock");
  ASSERT_THAT(mknod(p.c_str(), S_IFSOCK | 0600, 0), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(p.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  // Opening a socket node is ENXIO.
  EXPECT_THAT(open(p.c_str(), O_RDONLY), SyscallFailsWithErrno(ENXIO));
}

}  // namespace
}  // namespace palisade::testing
