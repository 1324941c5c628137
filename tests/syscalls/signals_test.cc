// sigaction(2), kill(2), raise(3), sigprocmask(2), sigpending(2),
// sigsuspend(2), sigtimedwait(2), sigaltstack(2), SA_RESTART, SIGCHLD and
// death by signal (checked in forked children: as PID 1 in the sandbox,
// this process would ignore default-action signals sent to itself).
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

std::atomic<int> g_count{0};
std::atomic<int> g_last_sig{0};
siginfo_t g_info;
void Count(int sig) {
  g_count++;
  g_last_sig = sig;
}
void CountInfo(int sig, siginfo_t* info, void*) {
  g_info = *info;
  g_count++;
  g_last_sig = sig;
}

class SignalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_count = 0;
    g_last_sig = 0;
    memset(&g_info, 0, sizeof(g_info));
  }
};

TEST_F(SignalsTest, HandlerRunsBeforeKillReturns) {
  ScopedSigaction act(SIGUSR1, Count);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_last_sig, SIGUSR1);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 2);
}

TEST_F(SignalsTest, SigactionReturnsOldAction) {
  ScopedSigaction act(SIGUSR2, Count);
  struct sigaction next {}, old{};
  next.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGUSR2, &next, &old), SyscallSucceeds());
  EXPECT_EQ(old.sa_handler, Count);
  ASSERT_THAT(raise(SIGUSR2), SyscallSucceeds());
  EXPECT_EQ(g_count, 0) << "ignored signal ran a handler";
}

TEST_F(SignalsTest, SigactionErrors) {
  struct sigaction sa {};
  sa.sa_handler = Count;
  // "EINVAL An invalid signal was specified. This will also be generated if
  // an attempt is made to change the action for SIGKILL or SIGSTOP".
  EXPECT_THAT(sigaction(SIGKILL, &sa, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sigaction(SIGSTOP, &sa, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sigaction(0, &sa, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sigaction(65, &sa, nullptr), SyscallFailsWithErrno(EINVAL));
  // Reading SIGKILL's action is allowed.
  EXPECT_THAT(sigaction(SIGKILL, nullptr, &sa), SyscallSucceeds());
}

TEST_F(SignalsTest, SiginfoForKillRaiseAndSigqueue) {
  ScopedSigaction act(SIGUSR1, CountInfo, 0);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_info.si_signo, SIGUSR1);
  EXPECT_EQ(g_info.si_code, SI_USER);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_uid, getuid());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_info.si_code, SI_TKILL);  // glibc raise() is tgkill().
  union sigval v;
  v.sival_int = 1234;
  ASSERT_THAT(sigqueue(getpid(), SIGUSR1, v), SyscallSucceeds());
  EXPECT_EQ(g_info.si_code, SI_QUEUE);
  EXPECT_EQ(g_info.si_value.sival_int, 1234);
  EXPECT_EQ(g_count, 3);
}

TEST_F(SignalsTest, KillErrors) {
  EXPECT_THAT(kill(getpid(), 0), SyscallSucceeds());  // Existence check only.
  EXPECT_THAT(kill(getpid(), 12345), SyscallFailsWithErrno(EINVAL));
  pid_t gone = ForkChild([] { return 0; });
  ASSERT_GT(gone, 0);
  WaitForStatus(gone);
  EXPECT_THAT(kill(gone, 0), SyscallFailsWithErrno(ESRCH));
}

TEST_F(SignalsTest, BlockedSignalStaysPendingUntilUnblocked) {
  ScopedSigaction act(SIGUSR1, Count);
  {
    ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
    ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
    ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
    EXPECT_EQ(g_count, 0);
    sigset_t pending;
    ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
    EXPECT_TRUE(sigismember(&pending, SIGUSR1));
  }
  // Standard signals do not queue: two raises, one delivery.
  EXPECT_EQ(g_count, 1);
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&pending, SIGUSR1));
}

TEST_F(SignalsTest, RealtimeSignalsQueue) {
  ScopedSigaction act(SIGRTMIN, Count);
  {
    ScopedSignalMask block(SIG_BLOCK, {SIGRTMIN});
    for (int i = 0; i < 3; i++) ASSERT_THAT(raise(SIGRTMIN), SyscallSucceeds());
    EXPECT_EQ(g_count, 0);
  }
  EXPECT_EQ(g_count, 3);
}

TEST_F(SignalsTest, SigprocmaskCannotBlockKillOrStop) {
  sigset_t set, old, now;
  sigemptyset(&set);
  sigaddset(&set, SIGKILL);
  sigaddset(&set, SIGSTOP);
  sigaddset(&set, SIGUSR2);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, &now), SyscallSucceeds());
  // "It is not possible to block SIGKILL or SIGSTOP. Attempts to do so are
  // silently ignored."
  EXPECT_FALSE(sigismember(&now, SIGKILL));
  EXPECT_FALSE(sigismember(&now, SIGSTOP));
  EXPECT_TRUE(sigismember(&now, SIGUSR2));
  EXPECT_THAT(sigprocmask(12345, &set, nullptr), SyscallFailsWithErrno(EINVAL));
}

TEST_F(SignalsTest, HandlerRunsWithSignalAndSaMaskBlocked) {
  static sigset_t seen;
  struct sigaction sa {}, old{};
  sa.sa_handler = [](int) { sigprocmask(SIG_BLOCK, nullptr, &seen); };
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  sigemptyset(&seen);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_TRUE(sigismember(&seen, SIGUSR1)) << "delivered signal is blocked in its handler";
  EXPECT_TRUE(sigismember(&seen, SIGUSR2)) << "sa_mask is blocked in the handler";
  sigset_t now;
  sigprocmask(SIG_BLOCK, nullptr, &now);
  EXPECT_FALSE(sigismember(&now, SIGUSR1)) << "mask restored after the handler";
}

TEST_F(SignalsTest, ResethandRestoresDefault) {
  ScopedSigaction act(SIGUSR1, Count, SA_RESETHAND);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  struct sigaction now {};
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST_F(SignalsTest, SigsuspendWaitsForSignal) {
  ScopedSigaction act(SIGUSR1, Count);
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigset_t empty;
  sigemptyset(&empty);
  // "sigsuspend() always returns -1, with errno set to EINTR."
  EXPECT_THAT(sigsuspend(&empty), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_count, 1);
}

TEST_F(SignalsTest, SigtimedwaitDequeuesAndTimesOut) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR2});
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  siginfo_t info{};
  struct timespec ts = {5, 0};
  EXPECT_THAT(sigtimedwait(&set, &info, &ts), SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_EQ(info.si_code, SI_USER);
  ts = {0, 20 * 1000 * 1000};
  EXPECT_THAT(sigtimedwait(&set, &info, &ts), SyscallFailsWithErrno(EAGAIN));
  ts = {0, 1000000000};
  EXPECT_THAT(sigtimedwait(&set, &info, &ts), SyscallFailsWithErrno(EINVAL));
}

// SA_RESTART: a read(2) on an empty pipe interrupted by SIGALRM is restarted
// with SA_RESTART and fails with EINTR without it. A periodic timer keeps
// signalling until the read is interrupted, so the result does not depend on
// when the first signal lands.
class RestartTest : public SignalsTest {
 protected:
  void SetUp() override {
    SignalsTest::SetUp();
    int fds[2];
    ASSERT_THAT(pipe(fds), SyscallSucceeds());
    r_.reset(fds[0]);
    w_.reset(fds[1]);
  }
  void TearDown() override { SetRealTimer(0, 0); }
  FileDescriptor r_, w_;
};

TEST_F(RestartTest, WithoutSaRestartReadFailsWithEintr) {
  ScopedSigaction act(SIGALRM, Count, 0);
  SetRealTimer(50 * 1000, 100 * 1000);
  char c;
  EXPECT_THAT(read(r_.get(), &c, 1), SyscallFailsWithErrno(EINTR));
  SetRealTimer(0, 0);
  EXPECT_GE(g_count, 1);
}

TEST_F(RestartTest, WithSaRestartReadIsRestarted) {
  ScopedSigaction act(SIGALRM, Count, SA_RESTART);
  // The writer thread must not take SIGALRM itself.
  std::thread writer;
  {
    ScopedSignalMask block(SIG_BLOCK, {SIGALRM});
    writer = std::thread([&] {
      while (g_count < 3) usleep(5 * 1000);
      (void)!write(w_.get(), "k", 1);
    });
  }
  SetRealTimer(50 * 1000, 50 * 1000);
  char c = 0;
  EXPECT_THAT(read(r_.get(), &c, 1), SyscallSucceedsWithValue(1));
  SetRealTimer(0, 0);
  writer.join();
  EXPECT_EQ(c, 'k');
  EXPECT_GE(g_count, 3);
}

TEST_F(SignalsTest, SigaltstackRunsHandlerOnAlternateStack) {
  static std::vector<char> alt(SIGSTKSZ * 4);
  static std::atomic<bool> on_alt{false};
  static std::atomic<int> ss_flags{-1};
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  stack_t old{};
  ASSERT_THAT(sigaltstack(&ss, &old), SyscallSucceeds());
  struct sigaction sa {}, prev{};
  sa.sa_flags = SA_ONSTACK;
  sa.sa_handler = [](int) {
    char local;
    on_alt = &local >= alt.data() && &local < alt.data() + alt.size();
    stack_t cur{};
    sigaltstack(nullptr, &cur);
    ss_flags = cur.ss_flags;
  };
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &prev), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigaction(SIGUSR1, &prev, nullptr);
  EXPECT_TRUE(on_alt);
  EXPECT_EQ(ss_flags, SS_ONSTACK);
  stack_t now{};
  ASSERT_THAT(sigaltstack(nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.ss_sp, alt.data());
  EXPECT_EQ(now.ss_flags, 0);
  stack_t disable{};
  disable.ss_flags = SS_DISABLE;
  ASSERT_THAT(sigaltstack(&disable, nullptr), SyscallSucceeds());
}

TEST_F(SignalsTest, SigaltstackErrors) {
  // Well below the kernel's MINSIGSTKSZ (2048 on x86-64).
  std::vector<char> small(512);
  stack_t ss{};
  ss.ss_sp = small.data();
  ss.ss_size = small.size();
  // "ENOMEM The specified size of the new alternate signal stack ss.ss_size
  // was less than MINSIGSTKSZ."
  EXPECT_THAT(sigaltstack(&ss, nullptr), SyscallFailsWithErrno(ENOMEM));
  ss.ss_size = SIGSTKSZ;
  ss.ss_flags = 0x1234;
  EXPECT_THAT(sigaltstack(&ss, nullptr), SyscallFailsWithErrno(EINVAL));
  stack_t disable{};
  disable.ss_flags = SS_DISABLE;
  sigaltstack(&disable, nullptr);  // In case a call above wrongly succeeded.
}

TEST_F(SignalsTest, SigchldOnChildExit) {
  ScopedSigaction act(SIGCHLD, CountInfo, 0);
  ScopedSignalMask block(SIG_BLOCK, {SIGCHLD});
  pid_t pid = ForkChild([] { return 7; });
  ASSERT_GT(pid, 0);
  sigset_t wait_mask;
  sigprocmask(SIG_BLOCK, nullptr, &wait_mask);
  sigdelset(&wait_mask, SIGCHLD);
  while (g_count == 0) sigsuspend(&wait_mask);
  EXPECT_EQ(g_info.si_signo, SIGCHLD);
  EXPECT_EQ(g_info.si_pid, pid);
  EXPECT_EQ(g_info.si_code, CLD_EXITED);
  EXPECT_EQ(g_info.si_status, 7);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 7));
}

TEST_F(SignalsTest, DefaultActionsInChild) {
  // Terminate: the parent sees death by signal, which a shell reports as
  // 128+n (143 for SIGTERM).
  int status = RunInChild([] {
    raise(SIGTERM);
    return 0;
  });
  ASSERT_TRUE(KilledBy(status, SIGTERM));
  EXPECT_EQ(128 + WTERMSIG(status), 143);
  // Ignore: SIGCHLD and SIGURG do nothing by default.
  status = RunInChild([] {
    raise(SIGCHLD);
    raise(SIGURG);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  // SIG_IGN survives a signal that would otherwise kill.
  status = RunInChild([] {
    signal(SIGTERM, SIG_IGN);
    raise(SIGTERM);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  // abort(3) ends in SIGABRT even with the signal blocked.
  status = RunInChild([] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    abort();
    return 0;
  });
  EXPECT_TRUE(KilledBy(status, SIGABRT));
}

TEST_F(SignalsTest, SignalFromParentKillsChild) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    close(fds[0]);
    close(fds[1]);
    for (;;) pause();
    return 0;
  });
  close(fds[0]);
  close(fds[1]);
  ASSERT_GT(pid, 0);
  ASSERT_THAT(kill(pid, SIGUSR1), SyscallSucceeds());
  EXPECT_TRUE(KilledBy(WaitForStatus(pid), SIGUSR1));
}

}  // namespace
}  // namespace palisade::testing
