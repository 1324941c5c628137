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

#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace palisade::testing
