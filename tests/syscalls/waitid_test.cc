// wait4(2) and waitid(2) variants: WNOHANG, WNOWAIT, P_PID/P_PGID/P_ALL,
// WEXITED/WSTOPPED/WCONTINUED, the siginfo they fill, exit status
// encodings, and errors.
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

// A child that waits to be told to exit with `code` (by closing the pipe).
struct Held {
  pid_t pid = -1;
  int release_fd = -1;
};

Held HeldChild(int code) {
  int p[2];
  if (pipe(p) != 0) DieErrno("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(p[1]);
    char c;
    (void)read(p[0], &c, 1);
    _exit(code);
  }
  close(p[0]);
  return Held{pid, p[1]};
}

TEST(WaitidTest, WnohangWithRunningChildLeavesSiPidZero) {
  Held h = HeldChild(4);
  siginfo_t info;
  info.si_pid = 12345;
  // "If WNOHANG was specified ... and there were no children in a
  // waitable state, then waitid() returns 0 immediately and the state of
  // the siginfo_t structure ... si_pid ... zero" (on Linux).
  ASSERT_THAT(waitid(P_PID, h.pid, &info, WEXITED | WNOHANG), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, 0);
  close(h.release_fd);
  ASSERT_THAT(waitid(P_PID, h.pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, h.pid);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 4);
  EXPECT_EQ(info.si_signo, SIGCHLD);
}

TEST(WaitidTest, WnowaitLeavesChildWaitable) {
  pid_t pid = ForkChild([] { return 9; });
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_status, 9);
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  // Still a zombie: waitpid reaps it now.
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 9);
  EXPECT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOHANG), SyscallFailsWithErrno(ECHILD));
}

TEST(WaitidTest, KilledChildReportsCldKilled) {
  Held h = HeldChild(0);
  ASSERT_THAT(kill(h.pid, SIGUSR1), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, h.pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGUSR1);
  close(h.release_fd);
}

TEST(WaitidTest, PPgidSelectsGroupMembers) {
  Held a = HeldChild(1), b = HeldChild(2);
  ASSERT_THAT(setpgid(a.pid, a.pid), SyscallSucceeds());
  ASSERT_THAT(setpgid(b.pid, a.pid), SyscallSucceeds());
  Held other = HeldChild(3);
  close(other.release_fd);
  close(a.release_fd);
  close(b.release_fd);
  std::set<int> codes;
  for (int i = 0; i < 2; i++) {
    siginfo_t info{};
    ASSERT_THAT(waitid(P_PGID, a.pid, &info, WEXITED), SyscallSucceeds());
    codes.insert(info.si_status);
  }
  EXPECT_EQ(codes, (std::set<int>{1, 2}));
  siginfo_t info{};
  EXPECT_THAT(waitid(P_PGID, a.pid, &info, WEXITED), SyscallFailsWithErrno(ECHILD));
  ASSERT_THAT(waitid(P_ALL, 0, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, other.pid);
  EXPECT_EQ(info.si_status, 3);
}

TEST(WaitidTest, StoppedAndContinued) {
  Held h = HeldChild(0);
  ASSERT_THAT(kill(h.pid, SIGSTOP), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, h.pid, &info, WSTOPPED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  EXPECT_EQ(info.si_status, SIGSTOP);
  // A stop is reported once.
  info.si_pid = 1;
  ASSERT_THAT(waitid(P_PID, h.pid, &info, WSTOPPED | WNOHANG), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, 0);
  ASSERT_THAT(kill(h.pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(waitid(P_PID, h.pid, &info, WCONTINUED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_CONTINUED);
  EXPECT_EQ(info.si_status, SIGCONT);
  close(h.release_fd);
  ASSERT_THAT(waitid(P_PID, h.pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_EXITED);
}

TEST(WaitidTest, Errors) {
  siginfo_t info;
  // "EINVAL The options argument was invalid" (no event flag).
  EXPECT_THAT(waitid(P_ALL, 0, &info, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(waitid(static_cast<idtype_t>(42), 0, &info, WEXITED), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(waitid(P_PID, 999999, &info, WEXITED), SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(waitid(P_ALL, 0, &info, WEXITED | 0x1000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(waitpid(-1, nullptr, 0x1000), SyscallFailsWithErrno(EINVAL));
  pid_t pid = ForkChild([] { return 0; });
  ASSERT_GT(pid, 0);
  EXPECT_THAT(syscall(SYS_waitid, P_PID, pid, BadPointer(), WEXITED, nullptr), SyscallFailsWithErrno(EFAULT));
  waitpid(pid, nullptr, 0);  // Linux may have reaped it before the fault
}

TEST(WaitidTest, ExitStatusEncodings) {
  EXPECT_TRUE(ExitedWith(RunInChild([] { return 0; }), 0));
  EXPECT_TRUE(ExitedWith(RunInChild([] { return 255; }), 255));
  EXPECT_TRUE(ExitedWith(RunInChild([] { return 256 + 5; }), 5));  // low 8 bits
  int st = RunInChild([] {
    signal(SIGABRT, SIG_DFL);
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    abort();
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(st));
  EXPECT_EQ(WTERMSIG(st), SIGABRT);
  // exit_group from a thread-free process and _exit are the same.
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    syscall(SYS_exit_group, 17);
    return 0;
  }), 17));
}

TEST(WaitidTest, WaitpidZeroWaitsForOwnGroupOnly) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setpgid(0, 0) == 0);
    pid_t other = fork();
    if (other == 0) {
      setpgid(0, 0);
      usleep(200000);
      _exit(8);
    }
    pid_t same = fork();
    if (same == 0) _exit(6);
    setpgid(other, other);  // in case the child has not yet
    int st;
    CHILD_CHECK(waitpid(0, &st, 0) == same);
    CHILD_CHECK(WEXITSTATUS(st) == 6);
    errno = 0;
    CHILD_CHECK(waitpid(0, &st, WNOHANG) == -1 && errno == ECHILD);
    CHILD_CHECK(waitpid(-other, &st, 0) == other);
    CHILD_CHECK(WEXITSTATUS(st) == 8);
    return 0;
  }), 0));
}

TEST(WaitidTest, WallAndWcloneAcceptedForForkedChildren) {
  pid_t pid = ForkChild([] { return 2; });
  ASSERT_GT(pid, 0);
  int st;
  ASSERT_THAT(waitpid(pid, &st, __WALL), SyscallSucceedsWithValue(pid));
  EXPECT_EQ(WEXITSTATUS(st), 2);
}

}  // namespace
}  // namespace palisade::testing
