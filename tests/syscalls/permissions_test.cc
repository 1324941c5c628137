// Permission checks for an unprivileged user, from path_resolution(7)
// ("Permissions"), access(2), open(2), mkdir(2), unlink(2), utimensat(2)
// and umask(2). The set-up runs as root; every check runs in a child that
// dropped to uid/gid 1000 (which also clears its capabilities).
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/time.h>
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

constexpr uid_t kUser = 1000;
constexpr gid_t kGroup = 1000;

// Drops to kUser/kGroup with the given supplementary groups.
void DropToUser(std::initializer_list<gid_t> groups = {}) {
  std::vector<gid_t> g(groups);
  CHILD_CHECK(setgroups(g.size(), g.data()) == 0);
  CHILD_CHECK(setresgid(kGroup, kGroup, kGroup) == 0);
  CHILD_CHECK(setresuid(kUser, kUser, kUser) == 0);
}

class PermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0) GTEST_SKIP() << "needs root";
    old_umask_ = umask(022);
    // The user must be able to reach the test directory.
    ASSERT_THAT(chmod(dir_.path().c_str(), 0755), SyscallSucceeds());
  }
  void TearDown() override { umask(old_umask_); }
  std::string File(const char* name, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
    std::string p = dir_.CreateFile(name, "data");
    if (chmod(p.c_str(), mode) != 0 || chown(p.c_str(), uid, gid) != 0) DieErrno("chmod/chown");
    return p;
  }
  std::string Dir(const char* name, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
    std::string p = dir_.CreateDir(name);
    if (chmod(p.c_str(), mode) != 0 || chown(p.c_str(), uid, gid) != 0) DieErrno("chmod/chown");
    return p;
  }
  TempDir dir_;
  mode_t old_umask_ = 0;
};

TEST_F(PermissionsTest, OtherBitsGovernStrangers) {
  std::string ro = File("ro", 0644), none = File("none", 0600);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    int fd = open(ro.c_str(), O_RDONLY);
    CHILD_CHECK(fd >= 0);
    close(fd);
    errno = 0;
    CHILD_CHECK(open(ro.c_str(), O_WRONLY) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(open(ro.c_str(), O_RDWR) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(open(none.c_str(), O_RDONLY) == -1 && errno == EACCES);
    CHILD_CHECK(access(ro.c_str(), R_OK) == 0);
    errno = 0;
    CHILD_CHECK(access(ro.c_str(), W_OK) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(access(ro.c_str(), X_OK) == -1 && errno == EACCES);
    CHILD_CHECK(access(none.c_str(), F_OK) == 0);  // existence needs no bits
    errno = 0;
    CHILD_CHECK(truncate(ro.c_str(), 0) == -1 && errno == EACCES);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, OwnerBitsWinEvenWhenOthersMayRead) {
  // "If the process is the owner of the file, the owner permission bits
  // are used ... otherwise" the group, then the other bits: an owner with
  // mode 0077 is denied what everyone else may do.
  std::string f = File("mine", 0077, kUser, 0);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    errno = 0;
    CHILD_CHECK(open(f.c_str(), O_RDONLY) == -1 && errno == EACCES);
    // The owner may still chmod its file.
    CHILD_CHECK(chmod(f.c_str(), 0600) == 0);
    int fd = open(f.c_str(), O_RDWR);
    CHILD_CHECK(fd >= 0);
    close(fd);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, GroupBitsApplyToPrimaryAndSupplementaryGroups) {
  std::string prim = File("prim", 0040, 0, kGroup);
  std::string supp = File("supp", 0040, 0, 4321);
  std::string other = File("other", 0040, 0, 9999);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser({4321});
    int a = open(prim.c_str(), O_RDONLY);
    CHILD_CHECK(a >= 0);
    int b = open(supp.c_str(), O_RDONLY);
    CHILD_CHECK(b >= 0);
    errno = 0;
    CHILD_CHECK(open(other.c_str(), O_RDONLY) == -1 && errno == EACCES);
    close(a);
    close(b);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, SearchPermissionNeededOnEveryDirectory) {
  // "If the process does not have search permission on the current lookup
  // directory, an EACCES error is returned."
  std::string d = Dir("noexec", 0644);
  std::string inner = d + "/f";
  WriteFileOrDie(inner, "x", 0644);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    struct stat st;
    errno = 0;
    CHILD_CHECK(stat(inner.c_str(), &st) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(open(inner.c_str(), O_RDONLY) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(access(inner.c_str(), F_OK) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(chdir(d.c_str()) == -1 && errno == EACCES);
    // The directory itself can be stat()ed and listed (r without x).
    CHILD_CHECK(stat(d.c_str(), &st) == 0);
    int fd = open(d.c_str(), O_RDONLY | O_DIRECTORY);
    CHILD_CHECK(fd >= 0);
    close(fd);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, ExecuteOnlyDirectoryAllowsLookupButNotListing) {
  std::string d = Dir("xonly", 0711);
  std::string inner = d + "/known";
  WriteFileOrDie(inner, "x", 0644);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    errno = 0;
    CHILD_CHECK(open(d.c_str(), O_RDONLY | O_DIRECTORY) == -1 && errno == EACCES);
    int fd = open(inner.c_str(), O_RDONLY);
    CHILD_CHECK(fd >= 0);
    close(fd);
    CHILD_CHECK(chdir(d.c_str()) == 0);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, CreatingAndRemovingNeedWriteOnDirectory) {
  std::string ro = Dir("ro", 0755);
  std::string victim = ro + "/victim";
  WriteFileOrDie(victim, "x");
  ASSERT_THAT(chmod(victim.c_str(), 0666), SyscallSucceeds());
  std::string rw = Dir("rw", 0777);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    std::string n = ro + "/new";
    errno = 0;
    CHILD_CHECK(open(n.c_str(), O_CREAT | O_WRONLY, 0644) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(mkdir(n.c_str(), 0755) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(unlink(victim.c_str()) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(rename(victim.c_str(), (rw + "/moved").c_str()) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(symlink("x", n.c_str()) == -1 && errno == EACCES);
    // Writing into the file itself is fine (mode 0666).
    int fd = open(victim.c_str(), O_WRONLY);
    CHILD_CHECK(fd >= 0);
    close(fd);
    // In a writable directory the new file belongs to the user.
    std::string mine = rw + "/mine";
    fd = open(mine.c_str(), O_CREAT | O_WRONLY, 0644);
    CHILD_CHECK(fd >= 0);
    struct stat st;
    CHILD_CHECK(fstat(fd, &st) == 0);
    CHILD_CHECK(st.st_uid == kUser && st.st_gid == kGroup);
    close(fd);
    CHILD_CHECK(unlink(mine.c_str()) == 0);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, StickyDirectoryProtectsOtherUsersFiles) {
  // unlink(2): "EPERM The directory containing pathname has the sticky bit
  // (S_ISVTX) set and the process's effective UID is neither the UID of
  // the file to be deleted nor that of the directory containing it".
  std::string d = Dir("sticky", 01777);
  std::string roots = d + "/roots";
  WriteFileOrDie(roots, "x", 0666);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    errno = 0;
    CHILD_CHECK(unlink(roots.c_str()) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(rename(roots.c_str(), (d + "/r2").c_str()) == -1 && errno == EPERM);
    std::string own = d + "/own";
    int fd = open(own.c_str(), O_CREAT | O_WRONLY, 0644);
    CHILD_CHECK(fd >= 0);
    close(fd);
    CHILD_CHECK(unlink(own.c_str()) == 0);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, OnlyOwnerMayChangeModeAndOwner) {
  std::string f = File("rootfile", 0666);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    errno = 0;
    CHILD_CHECK(chmod(f.c_str(), 0600) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(chown(f.c_str(), kUser, kGroup) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, NonOwnerWithWriteMayTouchButNotSetTimes) {
  // utimensat(2): with times == NULL "the caller must ... have write
  // access"; setting explicit times needs ownership (EPERM).
  std::string f = File("times", 0666);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    CHILD_CHECK(utimensat(AT_FDCWD, f.c_str(), nullptr, 0) == 0);
    struct timespec ts[2] = {{1000, 0}, {2000, 0}};
    errno = 0;
    CHILD_CHECK(utimensat(AT_FDCWD, f.c_str(), ts, 0) == -1 && errno == EPERM);
    return 0;
  }), 0));
  std::string ro = File("times_ro", 0644);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    errno = 0;
    CHILD_CHECK(utimensat(AT_FDCWD, ro.c_str(), nullptr, 0) == -1 && errno == EACCES);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, UmaskAppliesToOpenMkdirAndMknodOnly) {
  std::string f = dir_.Join("u_file"), d = dir_.Join("u_dir"), fifo = dir_.Join("u_fifo");
  mode_t prev = umask(027);
  EXPECT_EQ(prev, 022u);
  EXPECT_EQ(umask(027), 027u);  // umask returns the previous value
  int fd = open(f.c_str(), O_CREAT | O_WRONLY, 0777);
  ASSERT_THAT(fd, SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  // fchmod is not subject to the umask.
  ASSERT_THAT(fchmod(fd, 0777), SyscallSucceeds());
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 07777, 0777u);
  close(fd);
  ASSERT_THAT(mkdir(d.c_str(), 0777), SyscallSucceeds());
  ASSERT_THAT(stat(d.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_THAT(mkfifo(fifo.c_str(), 0666), SyscallSucceeds());
  ASSERT_THAT(stat(fifo.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // Only the low 9 bits are kept.
  umask(07777);
  EXPECT_EQ(umask(022), 0777u);
}

TEST_F(PermissionsTest, UmaskIsInheritedByChildren) {
  umask(077);
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(umask(0) == 077);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, AccessUsesRealIdsAndFaccessatEaccessEffective) {
  std::string f = File("realcheck", 0600, kUser, kGroup);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    // Real uid 0 (root), effective kUser: access() checks the real ids.
    CHILD_CHECK(setresuid(0, 2000, 0) == 0);
    CHILD_CHECK(access(f.c_str(), R_OK) == 0);
    errno = 0;
    CHILD_CHECK(faccessat(AT_FDCWD, f.c_str(), R_OK, AT_EACCESS) == -1 && errno == EACCES);
    CHILD_CHECK(seteuid(0) == 0);
    CHILD_CHECK(setresuid(0, kUser, 0) == 0);
    CHILD_CHECK(faccessat(AT_FDCWD, f.c_str(), R_OK | W_OK, AT_EACCESS) == 0);
    return 0;
  }), 0));
}

TEST_F(PermissionsTest, SetgidDirectoryPassesGroupToNewEntries) {
  // mkdir(2)/open(2): in a set-group-ID directory new files take the
  // directory's group, and new subdirectories also inherit S_ISGID.
  std::string d = Dir("sgid", 02777, 0, 4242);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    DropToUser();
    std::string f = d + "/f";
    int fd = open(f.c_str(), O_CREAT | O_WRONLY, 0644);
    CHILD_CHECK(fd >= 0);
    struct stat st;
    CHILD_CHECK(fstat(fd, &st) == 0);
    CHILD_CHECK(st.st_gid == 4242);
    close(fd);
    std::string sub = d + "/sub";
    CHILD_CHECK(mkdir(sub.c_str(), 0755) == 0);
    CHILD_CHECK(stat(sub.c_str(), &st) == 0);
    CHILD_CHECK(st.st_gid == 4242);
    CHILD_CHECK(st.st_mode & S_ISGID);
    return 0;
  }), 0));
}

}  // namespace
}  // namespace palisade::testing
