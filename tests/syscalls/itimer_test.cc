// alarm(2), setitimer(2)/getitimer(2): remaining time, cancelling,
// periodic reload, ITIMER_VIRTUAL/ITIMER_PROF, inheritance across fork and
// exec rules, and errors.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/time_util.h"

namespace palisade::testing {
namespace {

std::atomic<int> g_alrm{0}, g_vtalrm{0}, g_prof{0};
void OnAlrm(int) { g_alrm++; }
void OnVt(int) { g_vtalrm++; }
void OnProf(int) { g_prof++; }

long Us(const struct timeval& tv) { return tv.tv_sec * 1000000L + tv.tv_usec; }

class ItimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_alrm = g_vtalrm = g_prof = 0;
  }
  void TearDown() override {
    alarm(0);
    struct itimerval zero {};
    setitimer(ITIMER_REAL, &zero, nullptr);
    setitimer(ITIMER_VIRTUAL, &zero, nullptr);
    setitimer(ITIMER_PROF, &zero, nullptr);
  }
};

TEST_F(ItimerTest, AlarmReturnsSecondsLeftOfPreviousAlarm) {
  EXPECT_EQ(alarm(100), 0u);
  unsigned left = alarm(50);
  EXPECT_GE(left, 99u);
  EXPECT_LE(left, 100u);
  left = alarm(0);  // cancels
  EXPECT_GE(left, 49u);
  EXPECT_LE(left, 50u);
  EXPECT_EQ(alarm(0), 0u);
}

TEST_F(ItimerTest, AlarmAndItimerRealAreTheSameTimer) {
  alarm(30);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_GT(Us(cur.it_value), 28 * 1000000L);
  EXPECT_EQ(Us(cur.it_interval), 0);
  struct itimerval zero {};
  ASSERT_THAT(setitimer(ITIMER_REAL, &zero, nullptr), SyscallSucceeds());
  EXPECT_EQ(alarm(0), 0u);
}

TEST_F(ItimerTest, AlarmDeliversSigalrm) {
  ScopedSigaction act(SIGALRM, OnAlrm);
  ScopedSignalMask block(SIG_BLOCK, {SIGALRM});
  alarm(1);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGALRM);
  struct timespec t = {10, 0};
  int64_t start = MonotonicNowNs();
  EXPECT_THAT(sigtimedwait(&s, nullptr, &t), SyscallSucceedsWithValue(SIGALRM));
  EXPECT_GE(MonotonicNowNs() - start, 900 * kMs);
}

TEST_F(ItimerTest, SetitimerReturnsOldValue) {
  struct itimerval v {}, old{};
  v.it_value.tv_sec = 40;
  v.it_interval.tv_sec = 2;
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  struct itimerval w {};
  w.it_value.tv_sec = 10;
  ASSERT_THAT(setitimer(ITIMER_REAL, &w, &old), SyscallSucceeds());
  EXPECT_GT(Us(old.it_value), 38 * 1000000L);
  EXPECT_LE(Us(old.it_value), 40 * 1000000L);
  EXPECT_EQ(Us(old.it_interval), 2 * 1000000L);
}

TEST_F(ItimerTest, PeriodicTimerFiresRepeatedly) {
  ScopedSigaction act(SIGALRM, OnAlrm, SA_RESTART);
  struct itimerval v {};
  v.it_value.tv_usec = 20000;
  v.it_interval.tv_usec = 20000;
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  int64_t end = MonotonicNowNs() + 10000 * kMs;
  while (g_alrm < 3 && MonotonicNowNs() < end) pause();
  EXPECT_GE(g_alrm, 3);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_EQ(Us(cur.it_interval), 20000);
  EXPECT_GT(Us(cur.it_value), 0) << "a periodic timer stays armed";
}

TEST_F(ItimerTest, VirtualTimerCountsUserCpuOnly) {
  ScopedSigaction act(SIGVTALRM, OnVt);
  struct itimerval v {};
  v.it_value.tv_usec = 50000;
  ASSERT_THAT(setitimer(ITIMER_VIRTUAL, &v, nullptr), SyscallSucceeds());
  // Sleeping does not consume it.
  usleep(150000);
  EXPECT_EQ(g_vtalrm, 0);
  // Spinning does.
  volatile uint64_t x = 0;
  int64_t end = MonotonicNowNs() + 20000 * kMs;
  while (g_vtalrm == 0 && MonotonicNowNs() < end) x = x + 1;
  EXPECT_EQ(g_vtalrm, 1);
}

TEST_F(ItimerTest, ProfTimerFiresWhileRunning) {
  ScopedSigaction act(SIGPROF, OnProf);
  struct itimerval v {};
  v.it_value.tv_usec = 30000;
  ASSERT_THAT(setitimer(ITIMER_PROF, &v, nullptr), SyscallSucceeds());
  volatile uint64_t x = 0;
  int64_t end = MonotonicNowNs() + 20000 * kMs;
  while (g_prof == 0 && MonotonicNowNs() < end) x = x + 1;
  EXPECT_EQ(g_prof, 1);
}

TEST_F(ItimerTest, TimersAreNotInheritedByFork) {
  alarm(100);
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct itimerval cur;
    CHILD_CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    CHILD_CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    CHILD_CHECK(alarm(0) == 0);
    return 0;
  }), 0));
  EXPECT_GT(alarm(0), 0u);
}

TEST_F(ItimerTest, Errors) {
  struct itimerval v {};
  EXPECT_THAT(setitimer(static_cast<__itimer_which>(5), &v, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getitimer(static_cast<__itimer_which>(5), &v), SyscallFailsWithErrno(EINVAL));
  v.it_value.tv_usec = 1000000;
  EXPECT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallFailsWithErrno(EINVAL));
  v.it_value.tv_usec = -1;
  EXPECT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_getitimer, ITIMER_REAL, BadPointer()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_setitimer, ITIMER_REAL, BadPointer(), nullptr), SyscallFailsWithErrno(EFAULT));
}

TEST_F(ItimerTest, DefaultSigalrmKillsChild) {
  EXPECT_TRUE(KilledBy(RunInChild([] {
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    for (;;) pause();
    return 0;
  }), SIGALRM));
}


void SpinUntil(const std::atomic<int>& counter, int want) {
  volatile uint64_t x = 0;
  int64_t end = MonotonicNowNs() + 20000 * kMs;
  while (counter < want && MonotonicNowNs() < end) x = x + 1;
}

TEST_F(ItimerTest, ProfTimerReloadsWithItsInterval) {
  ScopedSigaction act(SIGPROF, OnProf, SA_RESTART);
  struct itimerval v {};
  v.it_value.tv_usec = 10000;
  v.it_interval.tv_usec = 10000;
  ASSERT_THAT(setitimer(ITIMER_PROF, &v, nullptr), SyscallSucceeds());
  SpinUntil(g_prof, 3);
  EXPECT_GE(g_prof, 3);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_PROF, &cur), SyscallSucceeds());
  EXPECT_EQ(Us(cur.it_interval), 10000);
  EXPECT_GT(Us(cur.it_value), 0);
}

TEST_F(ItimerTest, VirtualTimerCountsDownAsTheProcessRuns) {
  struct itimerval v {}, cur{};
  v.it_value.tv_sec = 100;
  v.it_interval.tv_sec = 7;
  ASSERT_THAT(setitimer(ITIMER_VIRTUAL, &v, nullptr), SyscallSucceeds());
  struct timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  volatile uint64_t x = 0;
  do {
    for (int i = 0; i < 100000; i++) x = x + i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  } while (ToNs(c1) - ToNs(c0) < 50 * kMs);
  ASSERT_THAT(getitimer(ITIMER_VIRTUAL, &cur), SyscallSucceeds());
  EXPECT_LT(Us(cur.it_value), 100 * 1000000L);
  EXPECT_GT(Us(cur.it_value), 90 * 1000000L);
  EXPECT_EQ(Us(cur.it_interval), 7 * 1000000L);
  // The old value comes back from setitimer.
  struct itimerval zero {}, old{};
  ASSERT_THAT(setitimer(ITIMER_VIRTUAL, &zero, &old), SyscallSucceeds());
  EXPECT_GT(Us(old.it_value), 0);
  EXPECT_EQ(Us(old.it_interval), 7 * 1000000L);
}

TEST_F(ItimerTest, CpuTimersAreNotInheritedByFork) {
  struct itimerval v {};
  v.it_value.tv_sec = 100;
  ASSERT_THAT(setitimer(ITIMER_PROF, &v, nullptr), SyscallSucceeds());
  ASSERT_THAT(setitimer(ITIMER_VIRTUAL, &v, nullptr), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct itimerval cur;
    CHILD_CHECK(getitimer(ITIMER_PROF, &cur) == 0);
    CHILD_CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    CHILD_CHECK(getitimer(ITIMER_VIRTUAL, &cur) == 0);
    CHILD_CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    return 0;
  }), 0));
}

TEST_F(ItimerTest, DefaultSigprofKillsChild) {
  EXPECT_TRUE(KilledBy(RunInChild([] {
    signal(SIGPROF, SIG_DFL);
    struct itimerval v {};
    v.it_value.tv_usec = 20000;
    setitimer(ITIMER_PROF, &v, nullptr);
    volatile uint64_t x = 0;
    int64_t end = MonotonicNowNs() + 20000 * kMs;
    while (MonotonicNowNs() < end) x = x + 1;
    return 0;
  }), SIGPROF));
}

}  // namespace
}  // namespace palisade::testing
