// Synchronous signal acceptance and queueing, from sigwaitinfo(2),
// sigtimedwait(2), sigsuspend(2), sigpending(2), sigqueue(3) and signal(7)
// ("Real-time signals": queued in order, lowest number first; standard
// signals are not queued).
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/time_util.h"

namespace palisade::testing {
namespace {

std::atomic<int> g_calls{0};
std::vector<int> g_order;
void Note(int sig) {
  g_calls++;
  g_order.push_back(sig);
}

sigset_t Set(std::initializer_list<int> sigs) {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : sigs) sigaddset(&s, sig);
  return s;
}

class SigwaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_calls = 0;
    g_order.clear();
  }
};

TEST_F(SigwaitTest, SigwaitinfoDequeuesPendingSignalWithInfo) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  union sigval v;
  v.sival_int = 31;
  ASSERT_THAT(sigqueue(getpid(), SIGUSR1, v), SyscallSucceeds());
  sigset_t s = Set({SIGUSR1});
  siginfo_t info{};
  ASSERT_THAT(sigwaitinfo(&s, &info), SyscallSucceedsWithValue(SIGUSR1));
  EXPECT_EQ(info.si_signo, SIGUSR1);
  EXPECT_EQ(info.si_code, SI_QUEUE);
  EXPECT_EQ(info.si_value.sival_int, 31);
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&pending, SIGUSR1)) << "sigwaitinfo must consume the signal";
}

TEST_F(SigwaitTest, StandardSignalsAreNotQueued) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR2});
  for (int i = 0; i < 3; i++) ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  sigset_t s = Set({SIGUSR2});
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &zero), SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_THAT(sigtimedwait(&s, nullptr, &zero), SyscallFailsWithErrno(EAGAIN));
}

TEST_F(SigwaitTest, RealtimeSignalsQueueInSendOrderWithValues) {
  const int sig = SIGRTMIN + 2;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  for (int i = 0; i < 5; i++) {
    union sigval v;
    v.sival_int = 100 + i;
    ASSERT_THAT(sigqueue(getpid(), sig, v), SyscallSucceeds());
  }
  sigset_t s = Set({sig});
  for (int i = 0; i < 5; i++) {
    siginfo_t info{};
    ASSERT_THAT(sigwaitinfo(&s, &info), SyscallSucceedsWithValue(sig));
    EXPECT_EQ(info.si_value.sival_int, 100 + i);
  }
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &zero), SyscallFailsWithErrno(EAGAIN));
}

TEST_F(SigwaitTest, LowestNumberedRealtimeSignalComesFirst) {
  // "Real-time signals are delivered in a guaranteed order ... signals
  // with lower numbers are delivered first."
  const int lo = SIGRTMIN + 1, hi = SIGRTMIN + 5;
  ScopedSignalMask block(SIG_BLOCK, {lo, hi});
  union sigval v{};
  ASSERT_THAT(sigqueue(getpid(), hi, v), SyscallSucceeds());
  ASSERT_THAT(sigqueue(getpid(), lo, v), SyscallSucceeds());
  ASSERT_THAT(sigqueue(getpid(), hi, v), SyscallSucceeds());
  sigset_t s = Set({lo, hi});
  EXPECT_THAT(sigwaitinfo(&s, nullptr), SyscallSucceedsWithValue(lo));
  EXPECT_THAT(sigwaitinfo(&s, nullptr), SyscallSucceedsWithValue(hi));
  EXPECT_THAT(sigwaitinfo(&s, nullptr), SyscallSucceedsWithValue(hi));
}

TEST_F(SigwaitTest, UnblockDeliversQueuedRealtimeSignalsToHandlerInOrder) {
  // Each handler blocks both signals, so handlers run one after the other
  // (otherwise Linux stacks a frame for the next signal on top of the
  // first before either runs, and the last one set up runs first).
  const int a = SIGRTMIN + 3, b = SIGRTMIN + 4;
  struct sigaction sa {}, olda, oldb;
  sa.sa_handler = Note;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, a);
  sigaddset(&sa.sa_mask, b);
  ASSERT_THAT(sigaction(a, &sa, &olda), SyscallSucceeds());
  ASSERT_THAT(sigaction(b, &sa, &oldb), SyscallSucceeds());
  {
    ScopedSignalMask block(SIG_BLOCK, {a, b});
    union sigval v{};
    ASSERT_THAT(sigqueue(getpid(), b, v), SyscallSucceeds());
    ASSERT_THAT(sigqueue(getpid(), a, v), SyscallSucceeds());
    ASSERT_THAT(sigqueue(getpid(), a, v), SyscallSucceeds());
    EXPECT_EQ(g_calls, 0);
  }
  sigaction(a, &olda, nullptr);
  sigaction(b, &oldb, nullptr);
  ASSERT_EQ(g_calls, 3);
  EXPECT_EQ(g_order, (std::vector<int>{a, a, b}));
}

TEST_F(SigwaitTest, SigtimedwaitTimesOut) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  sigset_t s = Set({SIGUSR1});
  struct timespec t = {0, 50 * 1000 * 1000};
  int64_t start = MonotonicNowNs();
  EXPECT_THAT(sigtimedwait(&s, nullptr, &t), SyscallFailsWithErrno(EAGAIN));
  EXPECT_GE(MonotonicNowNs() - start, 45 * kMs);
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &bad), SyscallFailsWithErrno(EINVAL));
}

TEST_F(SigwaitTest, SigwaitinfoWakesWhenAnotherThreadSends) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  pid_t pid = getpid();
  std::thread sender([pid] {
    usleep(50000);
    union sigval v;
    v.sival_int = 5;
    sigqueue(pid, SIGUSR1, v);
  });
  sigset_t s = Set({SIGUSR1});
  siginfo_t info{};
  EXPECT_THAT(sigwaitinfo(&s, &info), SyscallSucceedsWithValue(SIGUSR1));
  EXPECT_EQ(info.si_value.sival_int, 5);
  sender.join();
}

TEST_F(SigwaitTest, SigwaitinfoInterruptedByUnwaitedHandledSignal) {
  // "EINTR The wait was interrupted by a signal handler" not in set.
  ScopedSigaction act(SIGALRM, Note, 0);
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  sigset_t s = Set({SIGUSR1});
  SetRealTimer(50000, 0);
  EXPECT_THAT(sigwaitinfo(&s, nullptr), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_calls, 1);
}

TEST_F(SigwaitTest, SigwaitReturnsSignalNumber) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR2});
  ASSERT_THAT(raise(SIGUSR2), SyscallSucceeds());
  sigset_t s = Set({SIGUSR2});
  int sig = 0;
  EXPECT_EQ(sigwait(&s, &sig), 0);
  EXPECT_EQ(sig, SIGUSR2);
}

TEST_F(SigwaitTest, SigsuspendReplacesMaskTemporarily) {
  ScopedSigaction act(SIGUSR1, Note, 0);
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1, SIGUSR2});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_calls, 0);
  sigset_t during = Set({SIGUSR2});  // SIGUSR1 unblocked while suspended
  EXPECT_THAT(sigsuspend(&during), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_calls, 1);
  sigset_t now;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, nullptr, &now), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&now, SIGUSR1)) << "old mask restored after sigsuspend";
}

TEST_F(SigwaitTest, SigpendingSeesBlockedSignalsOfThreadAndProcess) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1, SIGUSR2});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());  // process-directed
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2), SyscallSucceeds());
  sigset_t p;
  ASSERT_THAT(sigpending(&p), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&p, SIGUSR1));
  EXPECT_TRUE(sigismember(&p, SIGUSR2));
  sigset_t s = Set({SIGUSR1, SIGUSR2});
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &zero), SyscallSucceeds());
  EXPECT_THAT(sigtimedwait(&s, nullptr, &zero), SyscallSucceeds());
  ASSERT_THAT(sigpending(&p), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&p, SIGUSR1));
  EXPECT_FALSE(sigismember(&p, SIGUSR2));
}

TEST_F(SigwaitTest, IgnoredSignalIsDiscardedEvenWhenBlocked) {
  // POSIX (sigaction): "Setting a signal action to SIG_IGN for a signal
  // that is pending shall cause the pending signal to be discarded,
  // whether or not it is blocked."
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  {
    ScopedSigaction ign(SIGUSR1, SIG_IGN);
    sigset_t p;
    ASSERT_THAT(sigpending(&p), SyscallSucceeds());
    EXPECT_FALSE(sigismember(&p, SIGUSR1)) << "setting SIG_IGN discards the pending signal";
  }
}

TEST_F(SigwaitTest, DefaultIgnoredSignalsArrivingDuringTheWaitAreTaken) {
  // Signals whose default action is to ignore them (SIGCHLD, SIGWINCH,
  // SIGURG) are queued, not discarded, while blocked: sigwait is the way to
  // take them (Linux keeps them via the waiter's real_blocked mask).
  ScopedSignalMask block(SIG_BLOCK, {SIGCHLD, SIGWINCH, SIGURG});
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    usleep(100000);  // usually after the parent started waiting
    kill(parent, SIGWINCH);
    kill(parent, SIGURG);
    _exit(0);  // and SIGCHLD
  }
  ASSERT_GT(child, 0);
  sigset_t s = Set({SIGCHLD, SIGWINCH, SIGURG});
  sigset_t got;
  sigemptyset(&got);
  for (int i = 0; i < 3; i++) {
    struct timespec t = {10, 0};
    siginfo_t info{};
    int sig = sigtimedwait(&s, &info, &t);
    ASSERT_GT(sig, 0) << ErrnoName(errno);
    sigaddset(&got, sig);
    if (sig == SIGCHLD) {
      EXPECT_EQ(info.si_pid, child);
      EXPECT_EQ(info.si_code, CLD_EXITED);
    }
  }
  EXPECT_TRUE(sigismember(&got, SIGCHLD));
  EXPECT_TRUE(sigismember(&got, SIGWINCH));
  EXPECT_TRUE(sigismember(&got, SIGURG));
  EXPECT_TRUE(ExitedWith(WaitForStatus(child), 0));
}

TEST_F(SigwaitTest, DefaultIgnoredSignalFromAnotherThreadDuringTheWait) {
  ScopedSignalMask block(SIG_BLOCK, {SIGWINCH});
  pid_t pid = getpid();
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  std::thread sender([pid, tid] {
    usleep(50000);
    syscall(SYS_tgkill, pid, tid, SIGWINCH);
  });
  sigset_t s = Set({SIGWINCH});
  struct timespec t = {10, 0};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &t), SyscallSucceedsWithValue(SIGWINCH));
  sender.join();
}

TEST_F(SigwaitTest, SigchldReachesSigwaitWhileAnotherThreadDoesNotBlockIt) {
  // Only the thread a signal is addressed to decides whether it is
  // discarded: here the main thread (the leader) waits for SIGCHLD it had
  // blocked, while a thread started before the block leaves it unblocked.
  int quit[2];
  ASSERT_THAT(pipe(quit), SyscallSucceeds());
  std::thread idle([&] {
    char c;
    (void)read(quit[0], &c, 1);
  });
  {
    ScopedSignalMask block(SIG_BLOCK, {SIGCHLD});
    pid_t child = fork();
    if (child == 0) {
      usleep(100000);
      _exit(7);
    }
    ASSERT_GT(child, 0);
    sigset_t s = Set({SIGCHLD});
    struct timespec t = {10, 0};
    siginfo_t info{};
    EXPECT_THAT(sigtimedwait(&s, &info, &t), SyscallSucceedsWithValue(SIGCHLD));
    EXPECT_EQ(info.si_pid, child);
    EXPECT_TRUE(ExitedWith(WaitForStatus(child), 7));
  }
  ASSERT_THAT(write(quit[1], "q", 1), SyscallSucceeds());
  idle.join();
  close(quit[0]);
  close(quit[1]);
}

TEST_F(SigwaitTest, UnblockedDefaultIgnoredSignalIsStillDiscarded) {
  // Only a signal blocked before the wait counts as blocked during it
  // (real_blocked is the mask the wait started with): an unblocked
  // SIGWINCH with the default action is discarded on arrival.
  ScopedSignalMask unblock(SIG_UNBLOCK, {SIGWINCH});
  std::thread sender([pid = getpid()] {
    usleep(20000);
    kill(pid, SIGWINCH);
  });
  sigset_t s = Set({SIGWINCH});
  struct timespec t = {0, 300000000};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &t), SyscallFailsWithErrno(EAGAIN));
  sender.join();
}

TEST_F(SigwaitTest, PendingSignalsAreNotInheritedByFork) {
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    sigset_t p;
    CHILD_CHECK(sigpending(&p) == 0);
    CHILD_CHECK(!sigismember(&p, SIGUSR1));
    sigset_t m;
    CHILD_CHECK(sigprocmask(SIG_BLOCK, nullptr, &m) == 0);
    CHILD_CHECK(sigismember(&m, SIGUSR1));  // the mask is inherited
    return 0;
  }), 0));
  sigset_t s = Set({SIGUSR1});
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&s, nullptr, &zero), SyscallSucceedsWithValue(SIGUSR1));
}

}  // namespace
}  // namespace palisade::testing
