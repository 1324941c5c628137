// POSIX per-process timers, from timer_create(2), timer_settime(2),
// timer_getoverrun(2) and timer_delete(2): SIGEV_SIGNAL with si_value,
// SIGEV_THREAD_ID, SIGEV_NONE, absolute and periodic timers, overruns, and
// errors.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
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

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

namespace palisade::testing {
namespace {

sigset_t Set(int sig) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  return s;
}

timer_t MakeTimer(clockid_t clock, int sig, int value) {
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = sig;
  sev.sigev_value.sival_int = value;
  timer_t t;
  if (timer_create(clock, &sev, &t) != 0) DieErrno("timer_create");
  return t;
}

struct itimerspec Spec(int64_t value_ns, int64_t interval_ns = 0) {
  struct itimerspec s {};
  s.it_value = {static_cast<time_t>(value_ns / 1000000000), static_cast<long>(value_ns % 1000000000)};
  s.it_interval = {static_cast<time_t>(interval_ns / 1000000000), static_cast<long>(interval_ns % 1000000000)};
  return s;
}

TEST(PosixTimerTest, OneShotDeliversSignalWithValue) {
  const int sig = SIGRTMIN + 1;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  timer_t t = MakeTimer(CLOCK_MONOTONIC, sig, 777);
  struct itimerspec s = Spec(30 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  sigset_t set = Set(sig);
  siginfo_t info{};
  struct timespec wait = {10, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &wait), SyscallSucceedsWithValue(sig));
  EXPECT_EQ(info.si_code, SI_TIMER);
  EXPECT_EQ(info.si_value.sival_int, 777);
  EXPECT_EQ(info.si_overrun, 0);
  // Disarmed after firing once.
  struct itimerspec cur;
  ASSERT_THAT(timer_gettime(t, &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
  ASSERT_THAT(timer_delete(t), SyscallSucceeds());
}

TEST(PosixTimerTest, DefaultNotificationIsSigalrmWithTimerId) {
  // "Specifying sevp as NULL is equivalent to ... SIGEV_SIGNAL, SIGALRM,
  // and sival_int = the timer ID."
  ScopedSignalMask block(SIG_BLOCK, {SIGALRM});
  // Raw syscalls: glibc's timer_t is not the kernel's timer id.
  int id = -1;
  ASSERT_THAT(syscall(SYS_timer_create, CLOCK_REALTIME, nullptr, &id), SyscallSucceeds());
  struct itimerspec s = Spec(10 * kMs);
  ASSERT_THAT(syscall(SYS_timer_settime, id, 0, &s, nullptr), SyscallSucceeds());
  sigset_t set = Set(SIGALRM);
  siginfo_t info{};
  struct timespec wait = {10, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &wait), SyscallSucceedsWithValue(SIGALRM));
  EXPECT_EQ(info.si_code, SI_TIMER);
  EXPECT_EQ(info.si_value.sival_int, id);
  EXPECT_EQ(info.si_timerid, id);
  ASSERT_THAT(syscall(SYS_timer_delete, id), SyscallSucceeds());
}

TEST(PosixTimerTest, GettimeShowsRemainingAndInterval) {
  timer_t t = MakeTimer(CLOCK_MONOTONIC, SIGRTMIN, 0);
  struct itimerspec s = Spec(10 * 1000 * kMs, 3 * 1000 * kMs), cur{};
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  ASSERT_THAT(timer_gettime(t, &cur), SyscallSucceeds());
  EXPECT_GT(ToNs(cur.it_value), 8 * 1000 * kMs);
  EXPECT_LE(ToNs(cur.it_value), 10 * 1000 * kMs);
  EXPECT_EQ(ToNs(cur.it_interval), 3 * 1000 * kMs);
  // The old value comes back from the next settime; zero disarms.
  struct itimerspec zero {}, old{};
  ASSERT_THAT(timer_settime(t, 0, &zero, &old), SyscallSucceeds());
  EXPECT_GT(ToNs(old.it_value), 0);
  EXPECT_EQ(ToNs(old.it_interval), 3 * 1000 * kMs);
  ASSERT_THAT(timer_gettime(t, &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
  timer_delete(t);
}

TEST(PosixTimerTest, AbsoluteTimeInThePastFiresAtOnce) {
  const int sig = SIGRTMIN + 2;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  timer_t t = MakeTimer(CLOCK_MONOTONIC, sig, 1);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct itimerspec s {};
  s.it_value = now;
  s.it_value.tv_sec -= 1;
  ASSERT_THAT(timer_settime(t, TIMER_ABSTIME, &s, nullptr), SyscallSucceeds());
  sigset_t set = Set(sig);
  struct timespec wait = {10, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &wait), SyscallSucceedsWithValue(sig));
  timer_delete(t);
}

TEST(PosixTimerTest, OverrunCountsExpirationsWhileSignalPending) {
  const int sig = SIGRTMIN + 3;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  timer_t t = MakeTimer(CLOCK_MONOTONIC, sig, 0);
  struct itimerspec s = Spec(5 * kMs, 5 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  usleep(200000);  // ~40 expirations, one signal queued
  sigset_t set = Set(sig);
  siginfo_t info{};
  struct timespec wait = {10, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &wait), SyscallSucceedsWithValue(sig));
  EXPECT_GT(info.si_overrun, 5);
  int over = timer_getoverrun(t);
  EXPECT_GE(over, 0);
  struct itimerspec zero {};
  timer_settime(t, 0, &zero, nullptr);
  // Only one signal was queued for all those expirations.
  struct timespec none = {0, 0};
  while (sigtimedwait(&set, nullptr, &none) == sig) {
  }
  timer_delete(t);
}

TEST(PosixTimerTest, SigevNoneNeverSignalsButCountsDown) {
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_NONE;
  timer_t t;
  ASSERT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallSucceeds());
  struct itimerspec s = Spec(5 * 1000 * kMs), cur{};
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  usleep(20000);
  ASSERT_THAT(timer_gettime(t, &cur), SyscallSucceeds());
  EXPECT_LT(ToNs(cur.it_value), 5 * 1000 * kMs);
  EXPECT_GT(ToNs(cur.it_value), 0);
  timer_delete(t);
}

TEST(PosixTimerTest, ThreadIdNotificationTargetsThread) {
  const int sig = SIGRTMIN + 4;
  std::atomic<pid_t> tid{0};
  std::atomic<int> got{0};
  std::thread th([&] {
    sigset_t set = Set(sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    struct timespec wait = {10, 0};
    siginfo_t info{};
    if (sigtimedwait(&set, &info, &wait) == sig) got = info.si_value.sival_int;
  });
  ScopedSignalMask block(SIG_BLOCK, {sig});  // main thread never takes it
  while (tid == 0) usleep(1000);
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = sig;
  sev.sigev_value.sival_int = 4321;
  sev.sigev_notify_thread_id = tid;
  timer_t t;
  ASSERT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallSucceeds());
  struct itimerspec s = Spec(10 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  th.join();
  EXPECT_EQ(got, 4321);
  timer_delete(t);
}

TEST(PosixTimerTest, CpuClockTimerFiresAfterCpuUse) {
  const int sig = SIGRTMIN + 5;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  timer_t t = MakeTimer(CLOCK_PROCESS_CPUTIME_ID, sig, 0);
  struct itimerspec s = Spec(30 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  sigset_t set = Set(sig);
  struct timespec none = {0, 0};
  volatile uint64_t x = 0;
  int64_t end = MonotonicNowNs() + 20000 * kMs;
  bool fired = false;
  while (!fired && MonotonicNowNs() < end) {
    for (int i = 0; i < 100000; i++) x = x + i;
    fired = sigtimedwait(&set, nullptr, &none) == sig;
  }
  EXPECT_TRUE(fired);
  timer_delete(t);
}

TEST(PosixTimerTest, Errors) {
  timer_t t;
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = 0;
  EXPECT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallFailsWithErrno(EINVAL));
  sev.sigev_signo = SIGUSR1;
  EXPECT_THAT(timer_create(12345, &sev, &t), SyscallFailsWithErrno(EINVAL));
  sev.sigev_notify = 77;
  EXPECT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallFailsWithErrno(EINVAL));
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_notify_thread_id = 999999;
  EXPECT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallFailsWithErrno(EINVAL));
  sev.sigev_notify = SIGEV_SIGNAL;
  EXPECT_THAT(syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, BadPointer()), SyscallFailsWithErrno(EFAULT));
  ASSERT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallSucceeds());
  struct itimerspec bad = Spec(0);
  bad.it_value.tv_nsec = 1000000000;
  EXPECT_THAT(timer_settime(t, 0, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  bad.it_value.tv_nsec = -1;
  EXPECT_THAT(timer_settime(t, 0, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(timer_delete(t), SyscallSucceeds());
  // A never created id is EINVAL.
  struct itimerspec cur;
  EXPECT_THAT(syscall(SYS_timer_gettime, 12345, &cur), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_timer_delete, 12345), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_timer_getoverrun, 12345), SyscallFailsWithErrno(EINVAL));
}

TEST(PosixTimerTest, TimersAreNotInheritedByFork) {
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_NONE;
  int id = -1;
  ASSERT_THAT(syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  struct itimerspec cur;
  ASSERT_THAT(syscall(SYS_timer_gettime, id, &cur), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    struct itimerspec c;
    errno = 0;
    CHILD_CHECK(syscall(SYS_timer_gettime, id, &c) == -1 && errno == EINVAL);
    return 0;
  }), 0));
  EXPECT_THAT(syscall(SYS_timer_delete, id), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_timer_gettime, id, &cur), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
