// utimensat(2), futimens(3), utimes(2), utime(2): UTIME_NOW, UTIME_OMIT,
// AT_SYMLINK_NOFOLLOW, ctime updates and errors.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

class UtimesTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.CreateFile("f", "x"); }
  struct stat Stat(const std::string& p, bool follow = true) {
    struct stat st;
    if ((follow ? stat(p.c_str(), &st) : lstat(p.c_str(), &st)) != 0) DieErrno("stat");
    return st;
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(UtimesTest, ExplicitTimesAreStoredWithNanoseconds) {
  struct timespec ts[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), ts, 0), SyscallSucceeds());
  struct stat st = Stat(path_);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
  EXPECT_EQ(st.st_atim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_mtim.tv_sec, 1100000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
}

TEST_F(UtimesTest, OmitLeavesATimestampAlone) {
  struct timespec ts[2] = {{5000, 0}, {6000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), ts, 0), SyscallSucceeds());
  struct timespec only_m[2] = {{0, UTIME_OMIT}, {7000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), only_m, 0), SyscallSucceeds());
  struct stat st = Stat(path_);
  EXPECT_EQ(st.st_atime, 5000);
  EXPECT_EQ(st.st_mtime, 7000);
  // Both omitted: nothing changes, not even ctime needs to.
  struct timespec none[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  EXPECT_THAT(utimensat(AT_FDCWD, path_.c_str(), none, 0), SyscallSucceeds());
}

TEST_F(UtimesTest, NowAndNullUseCurrentTime) {
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), old, 0), SyscallSucceeds());
  time_t before = time(nullptr);
  struct timespec now_a[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), now_a, 0), SyscallSucceeds());
  struct stat st = Stat(path_);
  EXPECT_GE(st.st_atime, before - 1);
  EXPECT_EQ(st.st_mtime, 1000);
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), nullptr, 0), SyscallSucceeds());
  st = Stat(path_);
  EXPECT_GE(st.st_mtime, before - 1);
}

TEST_F(UtimesTest, SettingTimesUpdatesCtime) {
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), old, 0), SyscallSucceeds());
  struct stat st = Stat(path_);
  EXPECT_GT(st.st_ctime, 1000) << "ctime is the time of the change, not a set value";
}

TEST_F(UtimesTest, SymlinkNofollowChangesTheLink) {
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink(path_.c_str(), link.c_str()), SyscallSucceeds());
  struct timespec ts[2] = {{2000, 0}, {3000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, link.c_str(), ts, AT_SYMLINK_NOFOLLOW), SyscallSucceeds());
  EXPECT_EQ(Stat(link, false).st_mtime, 3000);
  EXPECT_NE(Stat(path_).st_mtime, 3000);
  struct timespec ts2[2] = {{4000, 0}, {5000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, link.c_str(), ts2, 0), SyscallSucceeds());
  EXPECT_EQ(Stat(path_).st_mtime, 5000);
  EXPECT_EQ(Stat(link, false).st_mtime, 3000);
}

TEST_F(UtimesTest, FutimensAndNullPathUseDescriptor) {
  int fd = open(path_.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  struct timespec ts[2] = {{8000, 0}, {9000, 0}};
  ASSERT_THAT(futimens(fd, ts), SyscallSucceeds());
  EXPECT_EQ(Stat(path_).st_mtime, 9000);
  // utimensat(fd, NULL, ...) is futimens at the syscall level.
  struct timespec ts2[2] = {{8100, 0}, {9100, 0}};
  ASSERT_THAT(syscall(SYS_utimensat, fd, nullptr, ts2, 0), SyscallSucceeds());
  EXPECT_EQ(Stat(path_).st_mtime, 9100);
  close(fd);
  EXPECT_THAT(futimens(-1, ts), SyscallFailsWithErrno(EBADF));
}

TEST_F(UtimesTest, UtimesAndUtimeWrappers) {
  struct timeval tv[2] = {{3000, 500000}, {4000, 250000}};
  ASSERT_THAT(utimes(path_.c_str(), tv), SyscallSucceeds());
  struct stat st = Stat(path_);
  EXPECT_EQ(st.st_atim.tv_sec, 3000);
  EXPECT_EQ(st.st_atim.tv_nsec, 500000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 250000000);
  struct utimbuf ub = {11, 12};
  ASSERT_THAT(utime(path_.c_str(), &ub), SyscallSucceeds());
  st = Stat(path_);
  EXPECT_EQ(st.st_atime, 11);
  EXPECT_EQ(st.st_mtime, 12);
  struct timeval bad[2] = {{0, 1000000}, {0, 0}};
  EXPECT_THAT(utimes(path_.c_str(), bad), SyscallFailsWithErrno(EINVAL));
}

TEST_F(UtimesTest, Errors) {
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  EXPECT_THAT(utimensat(AT_FDCWD, path_.c_str(), bad, 0), SyscallFailsWithErrno(EINVAL));
  struct timespec neg[2] = {{0, -1}, {0, 0}};
  EXPECT_THAT(utimensat(AT_FDCWD, path_.c_str(), neg, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(utimensat(AT_FDCWD, path_.c_str(), nullptr, 0x4000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(utimensat(AT_FDCWD, dir_.Join("missing").c_str(), nullptr, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(utimensat(AT_FDCWD, path_.c_str(), static_cast<struct timespec*>(BadPointer()), 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(utimensat(-7, "rel", nullptr, 0), SyscallFailsWithErrno(EBADF));
  // An empty path without AT_EMPTY_PATH is ENOENT.
  EXPECT_THAT(utimensat(AT_FDCWD, "", nullptr, 0), SyscallFailsWithErrno(ENOENT));
}

TEST_F(UtimesTest, DirectoryTimesChangeWithEntries) {
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, dir_.path().c_str(), old, 0), SyscallSucceeds());
  dir_.CreateFile("new_entry", "");
  struct stat st = Stat(dir_.path());
  EXPECT_GT(st.st_mtime, 1000);
  EXPECT_GT(st.st_ctime, 1000);
}

TEST_F(UtimesTest, WriteUpdatesMtimeReadDoesNotChangeMtime) {
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, path_.c_str(), old, 0), SyscallSucceeds());
  int fd = open(path_.c_str(), O_RDWR);
  char c;
  ASSERT_THAT(read(fd, &c, 1), SyscallSucceeds());
  EXPECT_EQ(Stat(path_).st_mtime, 1000);
  ASSERT_THAT(write(fd, "y", 1), SyscallSucceeds());
  EXPECT_GT(Stat(path_).st_mtime, 1000);
  close(fd);
}

}  // namespace
}  // namespace palisade::testing
