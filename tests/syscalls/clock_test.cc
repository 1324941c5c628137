// clock_getres(2), clock_gettime(2) for every clock, and
// clock_nanosleep(2): TIMER_ABSTIME, EINTR with the remaining time (only
// for relative sleeps), and errors.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/time_util.h"

namespace palisade::testing {
namespace {

void Nop(int) {}

const clockid_t kClocks[] = {CLOCK_REALTIME,          CLOCK_MONOTONIC,        CLOCK_PROCESS_CPUTIME_ID,
                             CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,    CLOCK_REALTIME_COARSE,
                             CLOCK_MONOTONIC_COARSE,  CLOCK_BOOTTIME};

TEST(ClockTest, EveryClockHasResolutionAndTime) {
  for (clockid_t c : kClocks) {
    struct timespec res {-1, -1}, now{-1, -1};
    EXPECT_THAT(clock_getres(c, &res), SyscallSucceeds()) << "clock " << c;
    EXPECT_EQ(res.tv_sec, 0) << "clock " << c;
    EXPECT_GT(res.tv_nsec, 0) << "clock " << c;
    EXPECT_LE(res.tv_nsec, 10000000) << "clock " << c;
    EXPECT_THAT(clock_gettime(c, &now), SyscallSucceeds()) << "clock " << c;
    EXPECT_GE(now.tv_nsec, 0);
    EXPECT_LT(now.tv_nsec, 1000000000);
  }
  // A NULL res is allowed.
  EXPECT_THAT(clock_getres(CLOCK_MONOTONIC, nullptr), SyscallSucceeds());
}

TEST(ClockTest, InvalidClocks) {
  struct timespec ts;
  EXPECT_THAT(clock_getres(12345, &ts), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(clock_gettime(12345, &ts), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BadPointer()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_clock_getres, CLOCK_MONOTONIC, BadPointer()), SyscallFailsWithErrno(EFAULT));
}

TEST(ClockTest, BoottimeIsAtLeastMonotonic) {
  struct timespec m, b;
  ASSERT_THAT(clock_gettime(CLOCK_MONOTONIC, &m), SyscallSucceeds());
  ASSERT_THAT(clock_gettime(CLOCK_BOOTTIME, &b), SyscallSucceeds());
  EXPECT_GE(ToNs(b), ToNs(m));
}

TEST(ClockTest, ProcessCpuClockOfOtherProcessViaClockGetcpuclockid) {
  clockid_t cid;
  ASSERT_EQ(clock_getcpuclockid(getpid(), &cid), 0);
  struct timespec ts;
  EXPECT_THAT(clock_gettime(cid, &ts), SyscallSucceeds());
  pthread_getcpuclockid(pthread_self(), &cid);
  EXPECT_THAT(clock_gettime(cid, &ts), SyscallSucceeds());
}

TEST(ClockTest, AbsoluteSleepInThePastReturnsAtOnce) {
  struct timespec now;
  ASSERT_THAT(clock_gettime(CLOCK_MONOTONIC, &now), SyscallSucceeds());
  now.tv_sec -= 10;
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, nullptr), 0);
}

TEST(ClockTest, AbsoluteSleepWakesAfterDeadline) {
  struct timespec t;
  ASSERT_THAT(clock_gettime(CLOCK_REALTIME, &t), SyscallSucceeds());
  int64_t deadline = ToNs(t) + 50 * kMs;
  t.tv_sec = deadline / 1000000000;
  t.tv_nsec = deadline % 1000000000;
  ASSERT_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, nullptr), 0);
  struct timespec after;
  clock_gettime(CLOCK_REALTIME, &after);
  EXPECT_GE(ToNs(after), deadline);
}

TEST(ClockTest, RelativeSleepInterruptedReportsRemaining) {
  ScopedSigaction act(SIGALRM, Nop, 0);
  SetRealTimer(50000, 0);
  struct timespec req = {5, 0}, rem = {0, 0};
  // clock_nanosleep returns the error number instead of setting errno.
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), EINTR);
  EXPECT_GT(ToNs(rem), 0);
  EXPECT_LT(ToNs(rem), 5 * 1000 * kMs);
  EXPECT_GT(ToNs(rem), 3 * 1000 * kMs) << "the sleep ended much later than the alarm";
}

TEST(ClockTest, AbsoluteSleepInterruptedLeavesRemainUntouched) {
  ScopedSigaction act(SIGALRM, Nop, 0);
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += 5;
  struct timespec rem = {77, 77};
  SetRealTimer(50000, 0);
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, &rem), EINTR);
  // "If ... TIMER_ABSTIME ... remain is not used".
  EXPECT_EQ(rem.tv_sec, 77);
  EXPECT_EQ(rem.tv_nsec, 77);
}

TEST(ClockTest, SleepRestartedWithSaRestartReturnsEintrAnyway) {
  // signal(7): nanosleep/clock_nanosleep "are never restarted after being
  // interrupted by a signal handler, regardless of the use of SA_RESTART".
  ScopedSigaction act(SIGALRM, Nop, SA_RESTART);
  SetRealTimer(50000, 0);
  struct timespec req = {5, 0}, rem;
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), EINTR);
}

TEST(ClockTest, ClockNanosleepErrors) {
  struct timespec bad = {0, 1000000000}, neg = {-1, 0}, ok = {0, 1};
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &neg, nullptr), EINVAL);
  EXPECT_EQ(clock_nanosleep(12345, 0, &ok, nullptr), EINVAL);
  // "ENOTSUP The kernel does not support sleeping against this clockid"
  // (CLOCK_THREAD_CPUTIME_ID); EINVAL on some kernels.
  int r = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ok, nullptr);
  EXPECT_TRUE(r == EINVAL || r == ENOTSUP) << r;
  EXPECT_THAT(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, BadPointer(), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(ClockTest, ZeroSleepSucceeds) {
  struct timespec zero = {0, 0};
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &zero, nullptr), 0);
  EXPECT_THAT(nanosleep(&zero, nullptr), SyscallSucceeds());
}

TEST(ClockTest, TimeAndGettimeofdayAgree) {
  time_t t1 = time(nullptr);
  struct timeval tv;
  ASSERT_THAT(gettimeofday(&tv, nullptr), SyscallSucceeds());
  time_t t2 = time(nullptr);
  EXPECT_GE(tv.tv_sec, t1);
  EXPECT_LE(tv.tv_sec, t2);
  time_t out = 0;
  EXPECT_EQ(syscall(SYS_time, &out), out);
  EXPECT_GE(out, t1);
}

TEST(ClockTest, CpuClockDoesNotAdvanceWhileSleeping) {
  struct timespec a, b;
  ASSERT_THAT(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a), SyscallSucceeds());
  struct timespec req = {0, 200 * 1000 * 1000};
  nanosleep(&req, nullptr);
  ASSERT_THAT(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b), SyscallSucceeds());
  EXPECT_LT(ToNs(b) - ToNs(a), 150 * kMs) << "a sleeping thread used CPU time";
}


int64_t ClockNs(clockid_t c) {
  struct timespec ts {};
  if (clock_gettime(c, &ts) != 0) return -1;
  return ToNs(ts);
}

// Spins until the calling thread has used `ns` more CPU time (or 20 s of
// wall time passed, on a machine too loaded to give it any). Returns the
// wall time it took.
int64_t SpinForCpu(int64_t ns) {
  const int64_t start_cpu = ClockNs(CLOCK_THREAD_CPUTIME_ID);
  const int64_t start = MonotonicNowNs(), give_up = start + 20000 * kMs;
  volatile uint64_t x = 0;
  while (ClockNs(CLOCK_THREAD_CPUTIME_ID) - start_cpu < ns && MonotonicNowNs() < give_up) {
    for (int i = 0; i < 10000; i++) x = x + i;
  }
  return MonotonicNowNs() - start;
}

TEST(ClockTest, ThreadCpuClockAdvancesWithWorkButNoFasterThanWallTime) {
  const int64_t cpu0 = ClockNs(CLOCK_THREAD_CPUTIME_ID);
  const int64_t wall = SpinForCpu(100 * kMs);
  const int64_t used = ClockNs(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  EXPECT_GE(used, 100 * kMs);
  // One thread cannot use more CPU than the wall time that passed (a
  // clock counting something else, e.g. wall time of another thread,
  // would).
  EXPECT_LE(used, wall + 20 * kMs);
}

TEST(ClockTest, ProcessCpuClockIncludesOtherThreads) {
  std::atomic<int64_t> thread_used{0};
  clockid_t other_clock;
  std::atomic<bool> have_clock{false}, start{false}, done{false};
  std::thread th([&] {
    pthread_getcpuclockid(pthread_self(), &other_clock);
    have_clock = true;
    while (!start) usleep(1000);
    const int64_t c0 = ClockNs(CLOCK_THREAD_CPUTIME_ID);
    SpinForCpu(100 * kMs);
    thread_used = ClockNs(CLOCK_THREAD_CPUTIME_ID) - c0;
    while (!done) usleep(1000);
  });
  const int64_t proc0 = ClockNs(CLOCK_PROCESS_CPUTIME_ID);
  const int64_t main0 = ClockNs(CLOCK_THREAD_CPUTIME_ID);
  start = true;
  while (thread_used == 0) usleep(5000);
  ASSERT_TRUE(have_clock);
  // Another thread's clock, read from here, is that thread's.
  EXPECT_GE(ClockNs(other_clock), 100 * kMs);
  const int64_t main_used = ClockNs(CLOCK_THREAD_CPUTIME_ID) - main0;
  const int64_t proc_used = ClockNs(CLOCK_PROCESS_CPUTIME_ID) - proc0;
  EXPECT_LT(main_used, thread_used.load()) << "the waiting thread was charged the spinning one's time";
  EXPECT_GE(proc_used + 5 * kMs, thread_used.load()) << "the process clock misses a thread";
  done = true;
  th.join();
}

TEST(ClockTest, CpuClockOfAnotherProcess) {
  int ready[2], go[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  pid_t child = ForkChild([&] {
    SpinForCpu(100 * kMs);
    char c = 1;
    CHILD_CHECK(write(ready[1], &c, 1) == 1);
    CHILD_CHECK(read(go[0], &c, 1) >= 0);
    return 0;
  });
  ASSERT_GT(child, 0);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  clockid_t cid;
  ASSERT_EQ(clock_getcpuclockid(child, &cid), 0);
  EXPECT_GE(ClockNs(cid), 100 * kMs);
  struct timespec res;
  EXPECT_THAT(clock_getres(cid, &res), SyscallSucceeds());
  // A thread CPU clock of another process is refused.
  const clockid_t its_thread = static_cast<clockid_t>((~static_cast<unsigned>(child) << 3) | 4 | 2);
  struct timespec ts;
  EXPECT_THAT(clock_gettime(its_thread, &ts), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(write(go[1], &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(ExitedWith(WaitForStatus(child), 0));
  // Once reaped, the process (and its clock) is gone.
  EXPECT_THAT(clock_gettime(cid, &ts), SyscallFailsWithErrno(EINVAL));
  for (int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
}

TEST(ClockTest, InvalidCpuClocks) {
  struct timespec ts;
  // CPUCLOCK_WHICH 3 does not exist.
  const clockid_t bad_which = static_cast<clockid_t>((~0u << 3) | 3);
  EXPECT_THAT(clock_gettime(bad_which, &ts), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(clock_getres(bad_which, &ts), SyscallFailsWithErrno(EINVAL));
  // A process that does not exist.
  const clockid_t no_such = static_cast<clockid_t>((~static_cast<unsigned>(4000000) << 3) | 2);
  EXPECT_THAT(clock_gettime(no_such, &ts), SyscallFailsWithErrno(EINVAL));
  // CPU clocks cannot be set: the fixed ids have no set operation at all
  // (EINVAL), the dynamic ones refuse it (EPERM).
  ASSERT_THAT(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), SyscallSucceeds());
  EXPECT_THAT(clock_settime(CLOCK_PROCESS_CPUTIME_ID, &ts), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(clock_settime(CLOCK_THREAD_CPUTIME_ID, &ts), SyscallFailsWithErrno(EINVAL));
  clockid_t mine;
  ASSERT_EQ(clock_getcpuclockid(getpid(), &mine), 0);
  EXPECT_THAT(clock_settime(mine, &ts), SyscallFailsWithErrno(EPERM));
}

TEST(ClockTest, SleepOnTheProcessCpuClock) {
  // The process clock advances while another thread works, so a sleep on
  // it ends; the sleeper's own clock hardly moves.
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    volatile uint64_t x = 0;
    while (!stop) x = x + 1;
  });
  const int64_t my0 = ClockNs(CLOCK_THREAD_CPUTIME_ID);
  const int64_t proc0 = ClockNs(CLOCK_PROCESS_CPUTIME_ID);
  struct timespec req = {0, 50 * kMs};
  EXPECT_EQ(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &req, nullptr), 0);
  EXPECT_GE(ClockNs(CLOCK_PROCESS_CPUTIME_ID) - proc0, 50 * kMs);
  EXPECT_LT(ClockNs(CLOCK_THREAD_CPUTIME_ID) - my0, 50 * kMs);
  stop = true;
  spinner.join();
}

}  // namespace
}  // namespace palisade::testing
