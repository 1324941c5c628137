// chmod(2)/fchmod(2)/fchmodat(2), chown(2)/fchown(2)/lchown(2),
// access(2)/faccessat(2) and umask(2).
//
// Registered NEEDS_ROOT: it checks root's semantics (CAP_CHOWN,
// CAP_DAC_OVERRIDE) and drops to an unprivileged uid in a child to check
// the EACCES/EPERM paths.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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

constexpr uid_t kNobody = 65534;

mode_t ModeOf(const std::string& p) {
  struct stat st {};
  EXPECT_THAT(stat(p.c_str(), &st), SyscallSucceeds());
  return st.st_mode & 07777;
}

class PermTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = umask(0);
    // Let the unprivileged child walk into the directory.
    ASSERT_THAT(chmod(dir_.path().c_str(), 0755), SyscallSucceeds());
  }
  void TearDown() override { umask(old_umask_); }

  // Runs `fn` in a child whose uid and gid are kNobody (no capabilities).
  int RunUnprivileged(const std::function<int()>& fn) {
    return RunInChild([&] {
      CHILD_CHECK(setgroups(0, nullptr) == 0);
      CHILD_CHECK(setgid(kNobody) == 0);
      CHILD_CHECK(setuid(kNobody) == 0);
      CHILD_CHECK(geteuid() == kNobody);
      return fn();
    });
  }

  TempDir dir_;
  mode_t old_umask_ = 0;
};

TEST_F(PermTest, ChmodSetsPermissionBits) {
  std::string f = dir_.CreateFile("f", "", 0644);
  ASSERT_THAT(chmod(f.c_str(), 0600), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f), 0600u);
  ASSERT_THAT(chmod(f.c_str(), 04751), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f), 04751u);
  ASSERT_THAT(chmod(f.c_str(), 0), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f), 0u);
  // The file type is not part of what chmod changes.
  struct stat st;
  ASSERT_THAT(stat(f.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(PermTest, FchmodAndFchmodat) {
  std::string f = dir_.CreateFile("f", "", 0644);
  int fd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  ASSERT_THAT(fchmod(fd, 0640), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f), 0640u);
  int dfd = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  FileDescriptor dguard(dfd);
  ASSERT_THAT(fchmodat(dfd, "f", 0604, 0), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f), 0604u);
  EXPECT_THAT(fchmod(-1, 0644), SyscallFailsWithErrno(EBADF));
}

TEST_F(PermTest, ChmodFollowsSymlinks) {
  std::string f = dir_.CreateFile("f", "", 0644);
  std::string l = dir_.Join("l");
  ASSERT_THAT(symlink(f.c_str(), l.c_str()), SyscallSucceeds());
  ASSERT_THAT(chmod(l.c_str(), 0611), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f), 0611u);
}

TEST_F(PermTest, ChmodErrors) {
  EXPECT_THAT(chmod(dir_.Join("missing").c_str(), 0644), SyscallFailsWithErrno(ENOENT));
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(chmod((f + "/x").c_str(), 0644), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(PermTest, UmaskMasksCreationModes) {
  // "umask() sets the calling process's file mode creation mask ... and
  // returns the previous value of the mask."
  EXPECT_EQ(umask(027), 0u);
  EXPECT_EQ(umask(027), 027u);
  std::string f = dir_.CreateFile("f", "", 0666);
  EXPECT_EQ(ModeOf(f), 0640u);
  std::string d = dir_.Join("d");
  ASSERT_THAT(mkdir(d.c_str(), 0777), SyscallSucceeds());
  EXPECT_EQ(ModeOf(d), 0750u);
  // "only the file permission bits of mask are used".
  umask(07777);
  EXPECT_EQ(umask(0), 0777u);
}

TEST_F(PermTest, AccessModes) {
  std::string f = dir_.CreateFile("f", "", 0644);
  std::string x = dir_.CreateFile("x", "", 0755);
  EXPECT_THAT(access(f.c_str(), F_OK), SyscallSucceeds());
  EXPECT_THAT(access(f.c_str(), R_OK | W_OK), SyscallSucceeds());
  EXPECT_THAT(access(x.c_str(), X_OK), SyscallSucceeds());
  // Even root needs an execute bit: "If the calling process is privileged
  // ... X_OK check succeeds if execute permission is enabled for any of the
  // file owner, group, or other."
  EXPECT_THAT(access(f.c_str(), X_OK), SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(access(dir_.path().c_str(), X_OK), SyscallSucceeds());
}

TEST_F(PermTest, RootBypassesReadWritePermissions) {
  std::string f = dir_.CreateFile("f", "secret", 0);
  EXPECT_THAT(access(f.c_str(), R_OK | W_OK), SyscallSucceeds());
  int fd = open(f.c_str(), O_RDWR);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

TEST_F(PermTest, AccessErrors) {
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(access(dir_.Join("missing").c_str(), F_OK), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(access((f + "/x").c_str(), F_OK), SyscallFailsWithErrno(ENOTDIR));
  // "EINVAL mode was incorrectly specified."
  EXPECT_THAT(access(f.c_str(), 0100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(access(static_cast<const char*>(BadPointer()), F_OK), SyscallFailsWithErrno(EFAULT));
}

TEST_F(PermTest, Faccessat) {
  std::string f = dir_.CreateFile("f", "", 0644);
  ASSERT_THAT(symlink(dir_.Join("missing").c_str(), dir_.Join("dangling").c_str()),
              SyscallSucceeds());
  int dfd = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  FileDescriptor guard(dfd);
  EXPECT_THAT(faccessat(dfd, "f", R_OK, 0), SyscallSucceeds());
  EXPECT_THAT(faccessat(dfd, "f", R_OK, AT_EACCESS), SyscallSucceeds());
  EXPECT_THAT(faccessat(dfd, "dangling", F_OK, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(faccessat(dfd, "dangling", F_OK, AT_SYMLINK_NOFOLLOW), SyscallSucceeds());
  EXPECT_THAT(faccessat(-1, "f", F_OK, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(faccessat(dfd, "f", F_OK, 0x40000000), SyscallFailsWithErrno(EINVAL));
}

TEST_F(PermTest, UnprivilegedUserIsDenied) {
  std::string secret = dir_.CreateFile("secret", "s", 0600);
  std::string readable = dir_.CreateFile("readable", "r", 0644);
  int status = RunUnprivileged([&] {
    CHILD_CHECK(access(secret.c_str(), R_OK) == -1 && errno == EACCES);
    CHILD_CHECK(open(secret.c_str(), O_RDONLY) == -1 && errno == EACCES);
    CHILD_CHECK(access(readable.c_str(), R_OK) == 0);
    CHILD_CHECK(access(readable.c_str(), W_OK) == -1 && errno == EACCES);
    CHILD_CHECK(open(readable.c_str(), O_WRONLY) == -1 && errno == EACCES);
    // "EPERM The effective UID does not match the owner of the file".
    CHILD_CHECK(chmod(readable.c_str(), 0666) == -1 && errno == EPERM);
    CHILD_CHECK(chown(readable.c_str(), kNobody, kNobody) == -1 && errno == EPERM);
    // Creating in a directory without write permission.
    CHILD_CHECK(open((dir_.path() + "/new").c_str(), O_WRONLY | O_CREAT, 0644) == -1 &&
                errno == EACCES);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST_F(PermTest, AccessChecksRealIdsAndAtEaccessEffectiveIds) {
  std::string secret = dir_.CreateFile("secret", "s", 0600);
  int status = RunInChild([&] {
    // Real uid nobody, effective uid root.
    CHILD_CHECK(setresuid(kNobody, 0, 0) == 0);
    // "The check is done using the calling process's real UID and GID".
    CHILD_CHECK(access(secret.c_str(), R_OK) == -1 && errno == EACCES);
    CHILD_CHECK(faccessat(AT_FDCWD, secret.c_str(), R_OK, AT_EACCESS) == 0);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST_F(PermTest, ChownAsRoot) {
  std::string f = dir_.CreateFile("f");
  ASSERT_THAT(chown(f.c_str(), 1234, 5678), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  // "If the owner or group is specified as -1, then that ID is not changed."
  ASSERT_THAT(chown(f.c_str(), static_cast<uid_t>(-1), 42), SyscallSucceeds());
  ASSERT_THAT(stat(f.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 42u);
  int fd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  ASSERT_THAT(fchown(fd, 7, 8), SyscallSucceeds());
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_EQ(st.st_gid, 8u);
  EXPECT_THAT(chown(dir_.Join("missing").c_str(), 1, 1), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(fchown(-1, 1, 1), SyscallFailsWithErrno(EBADF));
}

TEST_F(PermTest, LchownChangesLinkNotTarget) {
  std::string f = dir_.CreateFile("f");
  std::string l = dir_.Join("l");
  ASSERT_THAT(symlink(f.c_str(), l.c_str()), SyscallSucceeds());
  ASSERT_THAT(lchown(l.c_str(), 4321, 4321), SyscallSucceeds());
  struct stat ls, fs;
  ASSERT_THAT(lstat(l.c_str(), &ls), SyscallSucceeds());
  ASSERT_THAT(stat(f.c_str(), &fs), SyscallSucceeds());
  EXPECT_EQ(ls.st_uid, 4321u);
  EXPECT_NE(fs.st_uid, 4321u);
  ASSERT_THAT(chown(l.c_str(), 99, 99), SyscallSucceeds());
  ASSERT_THAT(stat(f.c_str(), &fs), SyscallSucceeds());
  EXPECT_EQ(fs.st_uid, 99u);
}

TEST_F(PermTest, ChownClearsSetuidOnExecutable) {
  std::string f = dir_.CreateFile("f", "", 0755);
  ASSERT_THAT(chmod(f.c_str(), 06755), SyscallSucceeds());
  ASSERT_EQ(ModeOf(f), 06755u);
  // "When the owner or group of an executable file is changed by an
  // unprivileged user, the S_ISUID and S_ISGID mode bits are cleared ...
  // since Linux 2.2.13, root is treated like other users."
  ASSERT_THAT(chown(f.c_str(), 1000, 1000), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f) & (S_ISUID | S_ISGID), 0u);
  EXPECT_EQ(ModeOf(f) & 0777, 0755u);
}

TEST_F(PermTest, OwnerMayChmodOwnFile) {
  std::string mine = dir_.CreateFile("mine", "", 0644);
  ASSERT_THAT(chown(mine.c_str(), kNobody, kNobody), SyscallSucceeds());
  int status = RunUnprivileged([&] {
    CHILD_CHECK(chmod(mine.c_str(), 0600) == 0);
    // Giving it away needs CAP_CHOWN.
    CHILD_CHECK(chown(mine.c_str(), 0, static_cast<gid_t>(-1)) == -1 && errno == EPERM);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  EXPECT_EQ(ModeOf(mine), 0600u);
}

}  // namespace
}  // namespace palisade::testing
