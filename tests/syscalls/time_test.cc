// clock_gettime(2)/clock_getres(2), nanosleep(2), clock_nanosleep(2),
// gettimeofday(2), time(2), setitimer(2)/getitimer(2). Lower bounds on
// sleeping are checked; upper bounds only with minutes of slack.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/time_util.h"

namespace palisade::testing {
namespace {

constexpr int64_t kSec = 1000000000;
constexpr int64_t k2020 = 1577836800;  // 2020-01-01T00:00:00Z

std::atomic<int> g_alarms{0};
void OnAlarm(int) { g_alarms++; }

TEST(TimeTest, MonotonicNeverGoesBackwards) {
  struct timespec prev, now;
  ASSERT_THAT(clock_gettime(CLOCK_MONOTONIC, &prev), SyscallSucceeds());
  for (int i = 0; i < 2000; i++) {
    ASSERT_THAT(clock_gettime(CLOCK_MONOTONIC, &now), SyscallSucceeds());
    ASSERT_GE(ToNs(now), ToNs(prev)) << "iteration " << i;
    ASSERT_LT(now.tv_nsec, kSec);
    prev = now;
  }
}

TEST(TimeTest, ClocksHaveSaneValues) {
  struct timespec ts;
  ASSERT_THAT(clock_gettime(CLOCK_REALTIME, &ts), SyscallSucceeds());
  EXPECT_GT(ts.tv_sec, k2020);
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
                      CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME_COARSE, CLOCK_PROCESS_CPUTIME_ID,
                      CLOCK_THREAD_CPUTIME_ID}) {
    EXPECT_THAT(clock_gettime(c, &ts), SyscallSucceeds()) << "clock " << c;
    EXPECT_GE(ts.tv_sec, 0);
    EXPECT_LT(ts.tv_nsec, kSec);
  }
  // CLOCK_BOOTTIME is CLOCK_MONOTONIC plus time suspended, read later here.
  struct timespec mono, boot;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  EXPECT_GE(ToNs(boot), ToNs(mono));
}

TEST(TimeTest, CpuTimeAdvancesWithWork) {
  struct timespec before, after;
  ASSERT_THAT(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before), SyscallSucceeds());
  volatile uint64_t x = 0;
  struct timespec t;
  do {
    for (int i = 0; i < 100000; i++) x = x + i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  } while (ToNs(t) - ToNs(before) < 5 * kMs);
  ASSERT_THAT(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after), SyscallSucceeds());
  EXPECT_GE(ToNs(after) - ToNs(before), 5 * kMs);
}

TEST(TimeTest, ClockGettimeErrors) {
  struct timespec ts;
  EXPECT_THAT(clock_gettime(static_cast<clockid_t>(1000), &ts), SyscallFailsWithErrno(EINVAL));
  // Through the raw syscall: the vDSO path would simply crash on a bad
  // pointer, the syscall must report EFAULT.
  EXPECT_THAT(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BadPointer()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(TimeTest, ClockGetres) {
  struct timespec res;
  ASSERT_THAT(clock_getres(CLOCK_MONOTONIC, &res), SyscallSucceeds());
  EXPECT_EQ(res.tv_sec, 0);
  EXPECT_GT(res.tv_nsec, 0);
  EXPECT_THAT(clock_getres(static_cast<clockid_t>(1000), &res), SyscallFailsWithErrno(EINVAL));
}

TEST(TimeTest, ClockSettimeOfMonotonicIsEinval) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  // "EINVAL ... clockid is not settable" — true even for root.
  EXPECT_THAT(clock_settime(CLOCK_MONOTONIC, &ts), SyscallFailsWithErrno(EINVAL));
}

TEST(TimeTest, NanosleepSleepsAtLeastRequested) {
  struct timespec req = {0, 50 * 1000 * 1000};
  int64_t start = MonotonicNowNs();
  EXPECT_THAT(nanosleep(&req, nullptr), SyscallSucceeds());
  EXPECT_GE(MonotonicNowNs() - start, 50 * kMs);
  req = {0, 0};
  EXPECT_THAT(nanosleep(&req, nullptr), SyscallSucceeds());
}

TEST(TimeTest, NanosleepInvalid) {
  // "EINVAL The value in the tv_nsec field was not in the range [0, 999999999]
  // or tv_sec was negative."
  struct timespec req = {0, kSec};
  EXPECT_THAT(nanosleep(&req, nullptr), SyscallFailsWithErrno(EINVAL));
  req = {-1, 0};
  EXPECT_THAT(nanosleep(&req, nullptr), SyscallFailsWithErrno(EINVAL));
  req = {0, -1};
  EXPECT_THAT(nanosleep(&req, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(nanosleep(static_cast<struct timespec*>(BadPointer()), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(TimeTest, NanosleepInterruptedReportsRemaining) {
  ScopedSigaction act(SIGALRM, OnAlarm, 0);
  g_alarms = 0;
  SetRealTimer(50 * 1000, 100 * 1000);
  struct timespec req = {20, 0}, rem = {-1, -1};
  // "EINTR The pause has been interrupted by a signal ... rem ... remaining."
  EXPECT_THAT(nanosleep(&req, &rem), SyscallFailsWithErrno(EINTR));
  SetRealTimer(0, 0);
  EXPECT_GE(g_alarms, 1);
  EXPECT_GE(rem.tv_sec, 0);
  EXPECT_LE(ToNs(rem), 20 * kSec);
  EXPECT_GT(ToNs(rem), 0);
}

TEST(TimeTest, ClockNanosleepRelativeAndAbsolute) {
  struct timespec req = {0, 30 * 1000 * 1000};
  int64_t start = MonotonicNowNs();
  // clock_nanosleep returns the error number instead of setting errno.
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, nullptr), 0);
  EXPECT_GE(MonotonicNowNs() - start, 30 * kMs);
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_nsec += 40 * 1000 * 1000;
  if (deadline.tv_nsec >= kSec) {
    deadline.tv_sec++;
    deadline.tv_nsec -= kSec;
  }
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr), 0);
  EXPECT_GE(MonotonicNowNs(), ToNs(deadline));
  // A deadline in the past returns at once.
  struct timespec past = {0, 1};
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, nullptr), 0);
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  rt.tv_sec -= 1;
  EXPECT_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &rt, nullptr), 0);
}

TEST(TimeTest, ClockNanosleepErrors) {
  struct timespec bad = {0, kSec};
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
  struct timespec ok = {0, 1000};
  EXPECT_EQ(clock_nanosleep(static_cast<clockid_t>(1000), 0, &ok, nullptr), EINVAL);
  // "EINVAL clockid was ... CLOCK_THREAD_CPUTIME_ID" (not supported).
  EXPECT_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ok, nullptr), EINVAL);
}

TEST(TimeTest, GettimeofdayAgreesWithRealtimeClock) {
  struct timeval tv;
  ASSERT_THAT(gettimeofday(&tv, nullptr), SyscallSucceeds());
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  EXPECT_LT(tv.tv_usec, 1000000);
  EXPECT_GT(tv.tv_sec, k2020);
  EXPECT_LE(std::abs(ts.tv_sec - tv.tv_sec), 120) << "gettimeofday vs CLOCK_REALTIME";
  time_t t = time(nullptr);
  EXPECT_LE(std::abs(t - tv.tv_sec), 120);
  // "If tloc is non-NULL, the return value is also stored in the memory
  // pointed to by tloc."
  time_t out = 0;
  time_t ret = time(&out);
  EXPECT_EQ(ret, out);
  EXPECT_GT(out, k2020);
}

TEST(TimeTest, ItimerRealDeliversSigalrm) {
  ScopedSigaction act(SIGALRM, OnAlarm, 0);
  ScopedSignalMask block(SIG_BLOCK, {SIGALRM});
  g_alarms = 0;
  struct itimerval it = {{0, 0}, {0, 30 * 1000}};
  ASSERT_THAT(setitimer(ITIMER_REAL, &it, nullptr), SyscallSucceeds());
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_LE(cur.it_value.tv_sec * 1000000 + cur.it_value.tv_usec, 30 * 1000);
  sigset_t wait_mask;
  sigprocmask(SIG_BLOCK, nullptr, &wait_mask);
  sigdelset(&wait_mask, SIGALRM);
  while (g_alarms == 0) sigsuspend(&wait_mask);
  EXPECT_EQ(g_alarms, 1);
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_EQ(cur.it_value.tv_usec, 0) << "a one-shot timer is disarmed after firing";
  EXPECT_THAT(setitimer(static_cast<__itimer_which>(42), &it, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
