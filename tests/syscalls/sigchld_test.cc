// SIGCHLD and signals to groups, from sigaction(2) ("The siginfo_t
// argument": CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_CONTINUED), wait(2),
// kill(2) (pid 0, -pgrp, -1) and tgkill(2).
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

sigset_t Set(std::initializer_list<int> sigs) {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : sigs) sigaddset(&s, sig);
  return s;
}

// Waits (up to 10 s) for a SIGCHLD and returns its siginfo.
bool NextSigchld(siginfo_t* info) {
  sigset_t s = Set({SIGCHLD});
  struct timespec t = {10, 0};
  return sigtimedwait(&s, info, &t) == SIGCHLD;
}

class SigchldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Drain stale SIGCHLDs from earlier tests.
    sigset_t s = Set({SIGCHLD});
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, nullptr, &zero) > 0) {
    }
  }
  ScopedSignalMask block_{SIG_BLOCK, {SIGCHLD}};
};

TEST_F(SigchldTest, ExitReportsCldExitedAndStatus) {
  pid_t pid = ForkChild([] { return 7; });
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  ASSERT_TRUE(NextSigchld(&info));
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_status, 7);
  EXPECT_EQ(info.si_uid, getuid());
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 7));
}

TEST_F(SigchldTest, KillReportsCldKilledAndSignal) {
  pid_t pid = ForkChild([] {
    pause();
    return 0;
  });
  ASSERT_GT(pid, 0);
  ASSERT_THAT(kill(pid, SIGTERM), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_TRUE(NextSigchld(&info));
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGTERM);
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_TRUE(KilledBy(WaitForStatus(pid), SIGTERM));
}

TEST_F(SigchldTest, CoreDumpingSignalReportsCldDumpedOrKilled) {
  pid_t pid = ForkChild([] {
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);  // no core file
    raise(SIGQUIT);
    return 0;
  });
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  ASSERT_TRUE(NextSigchld(&info));
  EXPECT_TRUE(info.si_code == CLD_DUMPED || info.si_code == CLD_KILLED) << info.si_code;
  EXPECT_EQ(info.si_status, SIGQUIT);
  EXPECT_TRUE(KilledBy(WaitForStatus(pid), SIGQUIT));
}

TEST_F(SigchldTest, StopAndContinueReportedUnlessNocldstop) {
  pid_t pid = ForkChild([] {
    for (;;) pause();
    return 0;
  });
  ASSERT_GT(pid, 0);
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_TRUE(NextSigchld(&info));
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  EXPECT_EQ(info.si_status, SIGSTOP);
  int status;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSTOPPED(status));
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_TRUE(NextSigchld(&info));
  EXPECT_EQ(info.si_code, CLD_CONTINUED);
  EXPECT_EQ(info.si_status, SIGCONT);
  ASSERT_THAT(waitpid(pid, &status, WCONTINUED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFCONTINUED(status));
  // With SA_NOCLDSTOP, stops do not raise SIGCHLD.
  struct sigaction sa {}, old;
  sa.sa_handler = SIG_DFL;
  sa.sa_flags = SA_NOCLDSTOP;
  ASSERT_THAT(sigaction(SIGCHLD, &sa, &old), SyscallSucceeds());
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  sigset_t s = Set({SIGCHLD});
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &zero), SyscallFailsWithErrno(EAGAIN));
  kill(pid, SIGKILL);
  WaitForStatus(pid);
  sigaction(SIGCHLD, &old, nullptr);
}

TEST_F(SigchldTest, NocldwaitLeavesNoZombie) {
  // sigaction(2) SA_NOCLDWAIT: "do not transform children into zombies";
  // wait then fails with ECHILD once all children are gone.
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_NOCLDWAIT;
    CHILD_CHECK(sigaction(SIGCHLD, &sa, nullptr) == 0);
    pid_t c = fork();
    if (c == 0) _exit(0);
    CHILD_CHECK(c > 0);
    errno = 0;
    int r = waitpid(c, nullptr, 0);  // blocks until the child is gone
    CHILD_CHECK(r == -1 && errno == ECHILD);
    return 0;
  }), 0));
}

TEST_F(SigchldTest, IgnoredSigchldAlsoReapsAutomatically) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    signal(SIGCHLD, SIG_IGN);
    pid_t c = fork();
    if (c == 0) _exit(3);
    CHILD_CHECK(c > 0);
    errno = 0;
    int r = waitpid(c, nullptr, 0);
    CHILD_CHECK(r == -1 && errno == ECHILD);
    return 0;
  }), 0));
}

TEST_F(SigchldTest, KillZeroSignalsOwnProcessGroup) {
  // Run in a child that is its own group leader so that kill(0) and
  // kill(-pgrp) reach exactly it and its children.
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setpgid(0, 0) == 0);
    sigset_t s = Set({SIGUSR1});
    CHILD_CHECK(sigprocmask(SIG_BLOCK, &s, nullptr) == 0);
    int p[2];
    CHILD_CHECK(pipe(p) == 0);
    pid_t grand = fork();
    if (grand == 0) {
      // Same group, SIGUSR1 blocked (inherited): wait for it.
      struct timespec t = {10, 0};
      int sig = sigtimedwait(&s, nullptr, &t);
      _exit(sig == SIGUSR1 ? 0 : 1);
    }
    CHILD_CHECK(kill(0, SIGUSR1) == 0);
    struct timespec t = {10, 0};
    CHILD_CHECK(sigtimedwait(&s, nullptr, &t) == SIGUSR1);
    int st;
    CHILD_CHECK(waitpid(grand, &st, 0) == grand);
    CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
  }), 0));
}

TEST_F(SigchldTest, KillNegativePgrpReachesWholeGroup) {
  int go[2];
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  pid_t leader = ForkChild([&] {
    close(go[1]);
    char c;
    (void)read(go[0], &c, 1);
    pause();
    return 0;
  });
  ASSERT_GT(leader, 0);
  ASSERT_THAT(setpgid(leader, leader), SyscallSucceeds());
  pid_t member = ForkChild([&] {
    pause();
    return 0;
  });
  ASSERT_GT(member, 0);
  ASSERT_THAT(setpgid(member, leader), SyscallSucceeds());
  EXPECT_THAT(getpgid(member), SyscallSucceedsWithValue(leader));
  ASSERT_THAT(kill(-leader, SIGTERM), SyscallSucceeds());
  EXPECT_TRUE(KilledBy(WaitForStatus(leader), SIGTERM));
  EXPECT_TRUE(KilledBy(WaitForStatus(member), SIGTERM));
  // The group is now empty.
  EXPECT_THAT(kill(-leader, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(killpg(leader, 0), SyscallFailsWithErrno(ESRCH));
  close(go[0]);
  close(go[1]);
}

TEST_F(SigchldTest, KillpgAndSignalZeroProbe) {
  pid_t pid = ForkChild([] {
    pause();
    return 0;
  });
  ASSERT_GT(pid, 0);
  ASSERT_THAT(setpgid(pid, pid), SyscallSucceeds());
  EXPECT_THAT(kill(pid, 0), SyscallSucceeds());
  EXPECT_THAT(killpg(pid, 0), SyscallSucceeds());
  EXPECT_THAT(killpg(pid, SIGKILL), SyscallSucceeds());
  EXPECT_TRUE(KilledBy(WaitForStatus(pid), SIGKILL));
  EXPECT_THAT(kill(pid, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(killpg(-1, SIGKILL), SyscallFailsWithErrno(EINVAL));
}

TEST_F(SigchldTest, ZombieCanStillBeSignalled) {
  pid_t pid = ForkChild([] { return 0; });
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  ASSERT_TRUE(NextSigchld(&info));
  // Not yet reaped: the pid exists, kill() succeeds with no effect.
  EXPECT_THAT(kill(pid, 0), SyscallSucceeds());
  EXPECT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
}

std::atomic<pid_t> g_handler_tid{0};
void RecordTid(int) { g_handler_tid = static_cast<pid_t>(syscall(SYS_gettid)); }

TEST_F(SigchldTest, TgkillRunsHandlerOnTheChosenThread) {
  ScopedSigaction act(SIGUSR2, RecordTid);
  std::atomic<pid_t> tid{0};
  std::atomic<bool> stop{false};
  std::thread t([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    while (!stop) usleep(1000);
  });
  while (tid == 0) usleep(1000);
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), tid.load(), SIGUSR2), SyscallSucceeds());
  for (int i = 0; i < 5000 && g_handler_tid == 0; i++) usleep(1000);
  EXPECT_EQ(g_handler_tid, tid.load());
  // Errors: wrong thread group, bad tid, bad signal.
  EXPECT_THAT(syscall(SYS_tgkill, getpid() + 100000, tid.load(), SIGUSR2), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), 0, SIGUSR2), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), tid.load(), 100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tkill, tid.load(), 0), SyscallSucceeds());
  stop = true;
  t.join();
}

}  // namespace
}  // namespace palisade::testing
