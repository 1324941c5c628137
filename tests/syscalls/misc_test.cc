// uname(2), getpid(2)/getppid(2)/gettid(2), sysinfo(2), getrandom(2),
// getrlimit(2)/setrlimit(2)/prlimit(2), umask(2), getcwd(3)/chdir(2)/
// fchdir(2), setsid(2), prctl(2) PR_SET_NAME and arch_prctl(2).
//
// Nothing here depends on the host: no hostname, uid or pid is assumed (in
// the sandbox this process is PID 1 with parent 0, uid 0).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <asm/prctl.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

TEST(MiscTest, Uname) {
  struct utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_STREQ(u.sysname, "Linux");
  EXPECT_STREQ(u.machine, "x86_64");
  EXPECT_GT(strlen(u.release), 0u);
  EXPECT_GT(strlen(u.version), 0u);
  char host[HOST_NAME_MAX + 1] = {};
  ASSERT_THAT(gethostname(host, sizeof(host)), SyscallSucceeds());
  EXPECT_STREQ(u.nodename, host);
  EXPECT_THAT(uname(static_cast<struct utsname*>(BadPointer())), SyscallFailsWithErrno(EFAULT));
}

// Proof that syscalls are served by the sentry, not the host: inside the
// sandbox the test binary is PID 1 of the sentry's PID namespace, even
// through a raw syscall that bypasses glibc. Natively there is no such
// namespace, so the check only applies under run_in_sandbox.sh.
TEST(MiscTest, SandboxInitIsPid1) {
  if (getenv("PALISADE_SANDBOX") == nullptr) GTEST_SKIP() << "only meaningful inside the sandbox";
  EXPECT_EQ(syscall(SYS_getpid), 1);
  EXPECT_EQ(syscall(SYS_getppid), 0);
  EXPECT_EQ(syscall(SYS_gettid), 1);
}

TEST(MiscTest, ProcessAndThreadIds) {
  pid_t pid = getpid();
  EXPECT_GT(pid, 0);
  EXPECT_GE(getppid(), 0);
  EXPECT_EQ(gettid(), pid) << "tests run on the main thread";
  EXPECT_EQ(syscall(SYS_getpid), pid);
  pid_t thread_tid = 0;
  std::thread([&] { thread_tid = gettid(); }).join();
  EXPECT_NE(thread_tid, pid);
  EXPECT_GT(thread_tid, 0);
  int status = RunInChild([pid] {
    CHILD_CHECK(getppid() == pid);
    CHILD_CHECK(getpid() != pid);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST(MiscTest, Sysinfo) {
  struct sysinfo si;
  ASSERT_THAT(sysinfo(&si), SyscallSucceeds());
  EXPECT_GE(si.uptime, 0);
  EXPECT_GT(si.totalram, 0u);
  EXPECT_LE(si.freeram, si.totalram);
  EXPECT_GE(si.mem_unit, 1u);
  EXPECT_GE(si.procs, 1);
  EXPECT_THAT(sysinfo(static_cast<struct sysinfo*>(BadPointer())), SyscallFailsWithErrno(EFAULT));
}

TEST(MiscTest, Getrandom) {
  unsigned char a[64] = {}, b[64] = {};
  ASSERT_THAT(getrandom(a, sizeof(a), 0), SyscallSucceedsWithValue(64));
  ASSERT_THAT(getrandom(b, sizeof(b), GRND_NONBLOCK), SyscallSucceedsWithValue(64));
  // 512 random bits: equal or all-zero means the call did nothing.
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
  unsigned char zero[64] = {};
  EXPECT_NE(memcmp(a, zero, sizeof(a)), 0);
  EXPECT_THAT(getrandom(a, 0, 0), SyscallSucceedsWithValue(0));
  // "EINVAL An invalid flag was specified in flags."
  EXPECT_THAT(getrandom(a, sizeof(a), 0x1000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getrandom(BadPointer(), 16, 0), SyscallFailsWithErrno(EFAULT));
}

TEST(MiscTest, GetrlimitAndPrlimitAgree) {
  struct rlimit rl, pl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  EXPECT_LE(rl.rlim_cur, rl.rlim_max);
  ASSERT_THAT(prlimit(0, RLIMIT_NOFILE, nullptr, &pl), SyscallSucceeds());
  EXPECT_EQ(pl.rlim_cur, rl.rlim_cur);
  EXPECT_EQ(pl.rlim_max, rl.rlim_max);
  ASSERT_THAT(prlimit(getpid(), RLIMIT_STACK, nullptr, &pl), SyscallSucceeds());
  EXPECT_LE(pl.rlim_cur, pl.rlim_max);
}

TEST(MiscTest, RlimitErrors) {
  struct rlimit rl;
  EXPECT_THAT(getrlimit(static_cast<__rlimit_resource>(1000), &rl), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  struct rlimit bad = {rl.rlim_max, rl.rlim_max - 1};
  // "EINVAL ... rlim->rlim_cur was greater than rlim->rlim_max."
  EXPECT_THAT(setrlimit(RLIMIT_NOFILE, &bad), SyscallFailsWithErrno(EINVAL));
  pid_t gone = ForkChild([] { return 0; });
  ASSERT_GT(gone, 0);
  WaitForStatus(gone);
  EXPECT_THAT(prlimit(gone, RLIMIT_NOFILE, nullptr, &rl), SyscallFailsWithErrno(ESRCH));
}

TEST(MiscTest, LoweredNofileLimitIsEnforced) {
  int status = RunInChild([] {
    // open() returns the lowest free number, so every number below
    // `highest` is in use; allow only three more.
    int highest = open("/dev/null", O_RDONLY);
    CHILD_CHECK(highest >= 0);
    struct rlimit rl = {static_cast<rlim_t>(highest + 4), static_cast<rlim_t>(highest + 4)};
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    int opened = 0;
    for (int i = 0; i < 100; i++) {
      int fd = dup(highest);
      if (fd < 0) {
        CHILD_CHECK(errno == EMFILE);
        break;
      }
      CHILD_CHECK(fd < highest + 4);
      opened++;
    }
    CHILD_CHECK(opened <= 3);
    // "EBADF newfd is out of the allowed range" for dup2 past the limit.
    CHILD_CHECK(dup2(highest, highest + 10) == -1 && errno == EBADF);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST(MiscTest, UmaskReturnsPrevious) {
  mode_t old = umask(077);
  EXPECT_EQ(umask(022), 077u);
  EXPECT_EQ(umask(old), 022u);
}

TEST(MiscTest, GetcwdAndChdir) {
  char old[PATH_MAX];
  ASSERT_NE(getcwd(old, sizeof(old)), nullptr) << ErrnoName(errno);
  TempDir dir;
  char real[PATH_MAX];
  ASSERT_NE(realpath(dir.path().c_str(), real), nullptr);
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_STREQ(cwd, real);
  // Relative paths now resolve in the new directory.
  WriteFileOrDie("relative", "r");
  struct stat st;
  EXPECT_THAT(stat(dir.Join("relative").c_str(), &st), SyscallSucceeds());
  // "ERANGE The size argument is less than the length of the absolute
  // pathname of the working directory".
  char tiny[2];
  EXPECT_EQ(getcwd(tiny, sizeof(tiny)), nullptr);
  EXPECT_EQ(errno, ERANGE);
  ASSERT_THAT(chdir(".."), SyscallSucceeds());
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(std::string(cwd) + "/" + dir.path().substr(dir.path().rfind('/') + 1),
            std::string(real));
  ASSERT_THAT(chdir(old), SyscallSucceeds());
}

TEST(MiscTest, ChdirErrorsAndFchdir) {
  TempDir dir;
  std::string f = dir.CreateFile("f");
  EXPECT_THAT(chdir(f.c_str()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(chdir(dir.Join("missing").c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(chdir(""), SyscallFailsWithErrno(ENOENT));
  char old[PATH_MAX];
  ASSERT_NE(getcwd(old, sizeof(old)), nullptr);
  int dfd = open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(dfd, SyscallSucceeds());
  FileDescriptor guard(dfd);
  ASSERT_THAT(fchdir(dfd), SyscallSucceeds());
  EXPECT_THAT(access("f", F_OK), SyscallSucceeds());
  ASSERT_THAT(chdir(old), SyscallSucceeds());
  int ffd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(ffd, SyscallSucceeds());
  FileDescriptor fguard(ffd);
  EXPECT_THAT(fchdir(ffd), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(fchdir(-1), SyscallFailsWithErrno(EBADF));
}

TEST(MiscTest, SetsidInChild) {
  int status = RunInChild([] {
    pid_t sid = setsid();
    CHILD_CHECK(sid == getpid());
    CHILD_CHECK(getsid(0) == sid);
    CHILD_CHECK(getpgrp() == sid);
    // "EPERM The process group ID of any process equals the PID of the
    // calling process" — it is already a group leader now.
    CHILD_CHECK(setsid() == -1 && errno == EPERM);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST(MiscTest, PrctlThreadName) {
  char old[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, old), SyscallSucceeds());
  ASSERT_THAT(prctl(PR_SET_NAME, "palisade-name-truncated"), SyscallSucceeds());
  char now[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, now), SyscallSucceeds());
  // "The name can be up to 16 bytes long, including the terminating null".
  EXPECT_STREQ(now, "palisade-name-t");
  ASSERT_THAT(prctl(PR_SET_NAME, old), SyscallSucceeds());
  EXPECT_THAT(prctl(-1, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(MiscTest, ArchPrctlFsBase) {
  unsigned long fs = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), SyscallSucceeds());
  // glibc points FS at the thread control block, whose first word is its
  // own address on x86-64.
  ASSERT_NE(fs, 0u);
  EXPECT_EQ(*reinterpret_cast<unsigned long*>(fs), fs);
  EXPECT_THAT(syscall(SYS_arch_prctl, 0x9999, &fs), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
