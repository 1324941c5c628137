// POSIX per-process timers, from timer_create(2), timer_settime(2),
// timer_getoverrun(2) and timer_delete(2): SIGEV_SIGNAL with si_value,
// SIGEV_THREAD_ID, SIGEV_NONE, absolute and periodic timers, overruns, CPU
// clocks, deletion on execve(2), and errors.
//
// main() is this file's own: "--exec-child MODE ..." runs a helper mode in
// a freshly exec'd copy of this binary.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
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


std::atomic<int> g_fired{0};
void CountSignal(int) { g_fired++; }

TEST(PosixTimerTest, PeriodicTimerKeepsFiring) {
  const int sig = SIGRTMIN + 6;
  g_fired = 0;
  ScopedSigaction act(sig, CountSignal, SA_RESTART);
  timer_t t = MakeTimer(CLOCK_MONOTONIC, sig, 0);
  struct itimerspec s = Spec(10 * kMs, 10 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  int64_t end = MonotonicNowNs() + 20000 * kMs;
  while (g_fired < 3 && MonotonicNowNs() < end) usleep(5000);
  EXPECT_GE(g_fired, 3);
  struct itimerspec cur;
  ASSERT_THAT(timer_gettime(t, &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_interval), 10 * kMs);
  EXPECT_GT(ToNs(cur.it_value), 0) << "a periodic timer stays armed";
  EXPECT_LE(ToNs(cur.it_value), 10 * kMs);
  timer_delete(t);
}

TEST(PosixTimerTest, GetoverrunReportsTheLastDeliveredSignalsOverrun) {
  const int sig = SIGRTMIN + 7;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  timer_t t = MakeTimer(CLOCK_MONOTONIC, sig, 0);
  EXPECT_THAT(timer_getoverrun(t), SyscallSucceedsWithValue(0)) << "never fired";
  struct itimerspec s = Spec(2 * kMs, 2 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  usleep(100000);  // ~50 periods while the first signal waits
  sigset_t set = Set(sig);
  siginfo_t info{};
  struct timespec wait = {10, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &wait), SyscallSucceedsWithValue(sig));
  EXPECT_GT(info.si_overrun, 5);
  EXPECT_THAT(timer_getoverrun(t), SyscallSucceedsWithValue(info.si_overrun));
  // Re-arming resets the count.
  struct itimerspec zero {};
  ASSERT_THAT(timer_settime(t, 0, &zero, nullptr), SyscallSucceeds());
  EXPECT_THAT(timer_getoverrun(t), SyscallSucceedsWithValue(0));
  struct timespec none = {0, 0};
  while (sigtimedwait(&set, nullptr, &none) == sig) {
  }
  timer_delete(t);
}

TEST(PosixTimerTest, DeletingATimerWithItsSignalPending) {
  const int sig = SIGRTMIN + 8;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  int first = -1, second = -1;
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = sig;
  sev.sigev_value.sival_int = 1;
  ASSERT_THAT(syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &first), SyscallSucceeds());
  struct itimerspec s = Spec(1 * kMs);
  ASSERT_THAT(syscall(SYS_timer_settime, first, 0, &s, nullptr), SyscallSucceeds());
  usleep(50000);  // expired: its signal is queued (blocked)
  ASSERT_THAT(syscall(SYS_timer_delete, first), SyscallSucceeds());
  struct itimerspec cur;
  EXPECT_THAT(syscall(SYS_timer_gettime, first, &cur), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_timer_delete, first), SyscallFailsWithErrno(EINVAL));
  // A new timer works and is told apart from the old one. (Linux >= 6.13
  // drops a deleted timer's queued signal; older kernels deliver it.)
  sev.sigev_value.sival_int = 2;
  ASSERT_THAT(syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &second), SyscallSucceeds());
  EXPECT_NE(second, first) << "ids are handed out cyclically, not reused at once";
  ASSERT_THAT(syscall(SYS_timer_settime, second, 0, &s, nullptr), SyscallSucceeds());
  sigset_t set = Set(sig);
  struct timespec wait = {10, 0};
  siginfo_t info{};
  bool got_second = false;
  while (!got_second && sigtimedwait(&set, &info, &wait) == sig) {
    EXPECT_EQ(info.si_code, SI_TIMER);
    if (info.si_value.sival_int == 2) {
      EXPECT_EQ(info.si_timerid, second);
      got_second = true;
    } else {
      EXPECT_EQ(info.si_value.sival_int, 1);
      EXPECT_EQ(info.si_timerid, first);
    }
  }
  EXPECT_TRUE(got_second);
  EXPECT_THAT(syscall(SYS_timer_delete, second), SyscallSucceeds());
}

TEST(PosixTimerTest, RealtimeAbsoluteTimerFires) {
  const int sig = SIGRTMIN + 9;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  timer_t t = MakeTimer(CLOCK_REALTIME, sig, 5);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec s {};
  s.it_value = now;
  s.it_value.tv_nsec += 30 * kMs;
  if (s.it_value.tv_nsec >= 1000000000) {
    s.it_value.tv_sec++;
    s.it_value.tv_nsec -= 1000000000;
  }
  ASSERT_THAT(timer_settime(t, TIMER_ABSTIME, &s, nullptr), SyscallSucceeds());
  sigset_t set = Set(sig);
  siginfo_t info{};
  struct timespec wait = {10, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &wait), SyscallSucceedsWithValue(sig));
  struct timespec after;
  clock_gettime(CLOCK_REALTIME, &after);
  EXPECT_GE(ToNs(after), ToNs(s.it_value)) << "fired before its absolute time";
  EXPECT_EQ(info.si_value.sival_int, 5);
  timer_delete(t);
}

TEST(PosixTimerTest, ThreadCpuClockTimerCountsOnlyThatThread) {
  const int sig = SIGRTMIN + 10;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  timer_t t = MakeTimer(CLOCK_THREAD_CPUTIME_ID, sig, 0);
  struct itimerspec s = Spec(50 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  sigset_t set = Set(sig);
  struct timespec none = {0, 0};
  // Sleeping uses no CPU: nothing fires.
  usleep(200000);
  EXPECT_THAT(sigtimedwait(&set, nullptr, &none), SyscallFailsWithErrno(EAGAIN));
  struct itimerspec cur;
  ASSERT_THAT(timer_gettime(t, &cur), SyscallSucceeds());
  EXPECT_GT(ToNs(cur.it_value), 0);
  EXPECT_LE(ToNs(cur.it_value), 50 * kMs);
  volatile uint64_t x = 0;
  int64_t end = MonotonicNowNs() + 20000 * kMs;
  bool fired = false;
  while (!fired && MonotonicNowNs() < end) {
    for (int i = 0; i < 100000; i++) x = x + i;
    fired = sigtimedwait(&set, nullptr, &none) == sig;
  }
  EXPECT_TRUE(fired);
  struct timespec used;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
  EXPECT_GE(ToNs(used), 50 * kMs) << "fired before the thread used its CPU time";
  timer_delete(t);
}

TEST(PosixTimerTest, MoreErrors) {
  timer_t t;
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = 65;  // > SIGRTMAX
  EXPECT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallFailsWithErrno(EINVAL));
  sev.sigev_signo = SIGUSR1;
  // A CPU clock of a thread in another process.
  pid_t child = ForkChild([] {
    pause();
    return 0;
  });
  ASSERT_GT(child, 0);
  const clockid_t other_thread = static_cast<clockid_t>((~static_cast<unsigned>(child) << 3) | 4 | 2);
  EXPECT_THAT(timer_create(other_thread, &sev, &t), SyscallFailsWithErrno(EINVAL));
  // SIGEV_THREAD_ID naming a thread of another process.
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_notify_thread_id = child;
  EXPECT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallFailsWithErrno(EINVAL));
  kill(child, SIGKILL);
  WaitForStatus(child);
  sev.sigev_notify = SIGEV_SIGNAL;
  int id = -1;
  ASSERT_THAT(syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  // No new value at all, or an unreadable one.
  EXPECT_THAT(syscall(SYS_timer_settime, id, 0, nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_timer_settime, id, 0, BadPointer(), nullptr), SyscallFailsWithErrno(EFAULT));
  struct itimerspec bad = Spec(0, 0);
  bad.it_interval.tv_nsec = 1000000000;
  EXPECT_THAT(syscall(SYS_timer_settime, id, 0, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  struct itimerspec cur;
  EXPECT_THAT(syscall(SYS_timer_gettime, id, BadPointer()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_timer_gettime, id, &cur), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_timer_delete, id), SyscallSucceeds());
}

TEST(PosixTimerTest, SignalfdReadReportsOverrunAndReloads) {
  const int sig = SIGRTMIN + 11;
  ScopedSignalMask block(SIG_BLOCK, {sig});
  sigset_t set = Set(sig);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  ASSERT_THAT(sfd, SyscallSucceeds());
  timer_t t = MakeTimer(CLOCK_MONOTONIC, sig, 99);
  struct itimerspec s = Spec(2 * kMs, 2 * kMs);
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  usleep(100000);
  struct signalfd_siginfo r {};
  ASSERT_THAT(read(sfd, &r, sizeof(r)), SyscallSucceedsWithValue(sizeof(r)));
  EXPECT_EQ(static_cast<int>(r.ssi_signo), sig);
  EXPECT_EQ(r.ssi_code, SI_TIMER);
  EXPECT_EQ(r.ssi_int, 99);
  EXPECT_GT(r.ssi_overrun, 5u);
  EXPECT_THAT(timer_getoverrun(t), SyscallSucceedsWithValue(static_cast<int>(r.ssi_overrun)));
  // Taking the signal reloaded the timer: another one comes.
  ASSERT_THAT(read(sfd, &r, sizeof(r)), SyscallSucceedsWithValue(sizeof(r)));
  EXPECT_EQ(r.ssi_code, SI_TIMER);
  timer_delete(t);
  close(sfd);
}

TEST(PosixTimerTest, PeriodicSigevNoneTimerWrapsAround) {
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_NONE;
  timer_t t;
  ASSERT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &t), SyscallSucceeds());
  struct itimerspec s = Spec(10 * kMs, 30 * kMs), cur{};
  ASSERT_THAT(timer_settime(t, 0, &s, nullptr), SyscallSucceeds());
  usleep(100000);  // several periods later: still armed, within one period
  ASSERT_THAT(timer_gettime(t, &cur), SyscallSucceeds());
  EXPECT_GT(ToNs(cur.it_value), 0);
  EXPECT_LE(ToNs(cur.it_value), 30 * kMs);
  EXPECT_EQ(ToNs(cur.it_interval), 30 * kMs);
  timer_delete(t);
}

constexpr char kChildFlag[] = "--exec-child";

// execve(2): "POSIX timers are not preserved"; setitimer(2): "Interval
// timers are preserved across an execve". A child makes a POSIX timer and
// an ITIMER_VIRTUAL, then execs this binary, which checks both.
TEST(PosixTimerTest, ExecDeletesPosixTimersButKeepsItimers) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct sigevent sev {};
    sev.sigev_notify = SIGEV_NONE;
    int id = -1;
    CHILD_CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id) == 0);
    struct itimerspec s = Spec(100 * 1000 * kMs);
    CHILD_CHECK(syscall(SYS_timer_settime, id, 0, &s, nullptr) == 0);
    struct itimerval v {};
    v.it_value.tv_sec = 100;
    CHILD_CHECK(setitimer(ITIMER_VIRTUAL, &v, nullptr) == 0);
    std::string ids = std::to_string(id);
    char* argv[] = {const_cast<char*>("posix_timer_test"), const_cast<char*>(kChildFlag),
                    const_cast<char*>("after-exec"), ids.data(), nullptr};
    execv("/proc/self/exe", argv);
    CHILD_CHECK(false && "execv");
    return 1;
  }), 0));
}

}  // namespace

// The exec'd side of ExecDeletesPosixTimersButKeepsItimers.
int ChildMain(int argc, char** argv) {
  std::string mode = argc > 2 ? argv[2] : "";
  if (mode == "after-exec" && argc > 3) {
    int id = std::atoi(argv[3]);
    struct itimerspec cur;
    errno = 0;
    CHILD_CHECK(syscall(SYS_timer_gettime, id, &cur) == -1 && errno == EINVAL);
    struct itimerval v {};
    CHILD_CHECK(getitimer(ITIMER_VIRTUAL, &v) == 0);
    CHILD_CHECK(v.it_value.tv_sec > 0 || v.it_value.tv_usec > 0);
    return 0;
  }
  return 2;
}

}  // namespace palisade::testing

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], palisade::testing::kChildFlag) == 0) {
    return palisade::testing::ChildMain(argc, argv);
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
