// timerfd_create(2), timerfd_settime(2), timerfd_gettime(2): clocks,
// relative and absolute timers, periodic expiration counts, the read rules
// (8-byte buffers, EAGAIN, blocking), readiness for poll and epoll, fork.
// No test asserts an upper bound on timing: the machine may be loaded.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

constexpr long kMs = 1000000;

FileDescriptor MakeTimerfd(int clock, int flags) {
  int fd = timerfd_create(clock, flags);
  EXPECT_THAT(fd, SyscallSucceeds());
  return FileDescriptor(fd);
}

struct itimerspec Spec(long value_ns, long interval_ns) {
  struct itimerspec s {};
  s.it_value = {value_ns / 1000000000, value_ns % 1000000000};
  s.it_interval = {interval_ns / 1000000000, interval_ns % 1000000000};
  return s;
}

int64_t NowNs(int clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

uint64_t ReadCount(int fd) {
  uint64_t v = 0;
  EXPECT_THAT(read(fd, &v, sizeof(v)), SyscallSucceedsWithValue(8));
  return v;
}

TEST(TimerfdTest, CreateFlagsAndClocks) {
  for (int clock : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME}) {
    FileDescriptor fd = MakeTimerfd(clock, 0);
    EXPECT_EQ(fcntl(fd.get(), F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR);
    EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(0));
  }
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  EXPECT_TRUE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  // "EINVAL The clockid argument is neither CLOCK_MONOTONIC nor ..."
  EXPECT_THAT(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(12345, 0), SyscallFailsWithErrno(EINVAL));
  // "EINVAL Invalid value specified in flags."
  EXPECT_THAT(timerfd_create(CLOCK_MONOTONIC, 0x4), SyscallFailsWithErrno(EINVAL));
}

TEST(TimerfdTest, FstatIsAnonymousInode) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, 0);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & S_IFMT, 0u);
  char link[64] = {};
  std::string self = "/proc/self/fd/" + std::to_string(fd.get());
  ASSERT_THAT(readlink(self.c_str(), link, sizeof(link) - 1), SyscallSucceeds());
  EXPECT_STREQ(link, "anon_inode:[timerfd]");
}

TEST(TimerfdTest, DisarmedTimerIsNotReadable) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  uint64_t v;
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EAGAIN));
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_EQ(cur.it_value.tv_nsec, 0);
  EXPECT_EQ(cur.it_interval.tv_sec, 0);
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(TimerfdTest, ShortBufferIsEinvalAndWriteIsEinval) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  uint32_t small;
  EXPECT_THAT(read(fd.get(), &small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  uint64_t v = 1;
  EXPECT_THAT(write(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EINVAL));
}

TEST(TimerfdTest, OneShotBlockingReadReturnsOne) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, 0);
  struct itimerspec s = Spec(20 * kMs, 0);
  int64_t start = NowNs(CLOCK_MONOTONIC);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  EXPECT_EQ(ReadCount(fd.get()), 1u);
  EXPECT_GE(NowNs(CLOCK_MONOTONIC) - start, 20 * kMs);
  // Expired one-shot: disarmed, nothing more to read.
  uint64_t v;
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EAGAIN));
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_EQ(cur.it_value.tv_nsec, 0);
}

TEST(TimerfdTest, PeriodicTimerCountsMissedExpirations) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec s = Spec(5 * kMs, 5 * kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  usleep(60 * 1000);
  // At least 60/5 = 12 expirations passed (more on a slow machine is fine).
  EXPECT_GE(ReadCount(fd.get()), 10u);
  // gettime of a periodic timer: interval as set, value in (0, interval].
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_interval.tv_nsec, 5 * kMs);
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_GT(cur.it_value.tv_nsec, 0);
  EXPECT_LE(cur.it_value.tv_nsec, 5 * kMs);
  // Blocking again gets the next expiration.
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, 0), SyscallSucceeds());
  EXPECT_GE(ReadCount(fd.get()), 1u);
}

TEST(TimerfdTest, AbsoluteTimeOnEachClock) {
  for (int clock : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME}) {
    FileDescriptor fd = MakeTimerfd(clock, 0);
    int64_t when = NowNs(clock) + 20 * kMs;
    struct itimerspec s = Spec(when, 0);
    ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &s, nullptr), SyscallSucceeds());
    EXPECT_EQ(ReadCount(fd.get()), 1u) << "clock " << clock;
    EXPECT_GE(NowNs(clock), when) << "clock " << clock;
  }
}

TEST(TimerfdTest, AbsoluteTimeInThePastExpiresAtOnce) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec s = Spec(1, 0);  // 1 ns after boot
  ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &s, nullptr), SyscallSucceeds());
  EXPECT_EQ(ReadCount(fd.get()), 1u);
}

TEST(TimerfdTest, SettimeReturnsOldValueAndDisarms) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec s = Spec(100 * 1000 * kMs, 3 * kMs);  // 100 s
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  struct itimerspec zero = Spec(0, 0), old;
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &zero, &old), SyscallSucceeds());
  EXPECT_EQ(old.it_interval.tv_nsec, 3 * kMs);
  EXPECT_GT(old.it_value.tv_sec, 90);
  EXPECT_LE(old.it_value.tv_sec, 100);
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_EQ(cur.it_value.tv_nsec, 0);
}

TEST(TimerfdTest, SettimeResetsPendingCount) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec s = Spec(1 * kMs, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  usleep(10 * 1000);
  struct pollfd p = {fd.get(), POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  struct itimerspec far = Spec(100 * 1000 * kMs, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &far, nullptr), SyscallSucceeds());
  uint64_t v;
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EAGAIN));
}

TEST(TimerfdTest, SettimeErrors) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, 0);
  struct itimerspec s = Spec(kMs, 0);
  // "EINVAL new_value is not properly initialized (one of the tv_nsec
  // falls outside the range zero to 999,999,999)."
  struct itimerspec bad = s;
  bad.it_value.tv_nsec = 1000000000;
  EXPECT_THAT(timerfd_settime(fd.get(), 0, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  bad = s;
  bad.it_interval.tv_nsec = -1;
  EXPECT_THAT(timerfd_settime(fd.get(), 0, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  // "EINVAL flags is invalid."
  EXPECT_THAT(timerfd_settime(fd.get(), 0x10, &s, nullptr), SyscallFailsWithErrno(EINVAL));
  // "EBADF fd is not a valid file descriptor." "EINVAL fd is not a valid
  // timerfd file descriptor."
  EXPECT_THAT(timerfd_settime(-1, 0, &s, nullptr), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(timerfd_gettime(-1, &s), SyscallFailsWithErrno(EBADF));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(timerfd_settime(r.get(), 0, &s, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_gettime(r.get(), &s), SyscallFailsWithErrno(EINVAL));
  // "EFAULT new_value, old_value, or curr_value is not valid a pointer."
  EXPECT_THAT(timerfd_settime(fd.get(), 0, static_cast<struct itimerspec*>(BadPointer()), nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(timerfd_gettime(fd.get(), static_cast<struct itimerspec*>(BadPointer())),
              SyscallFailsWithErrno(EFAULT));
}

TEST(TimerfdTest, PollWakesOnExpiry) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec s = Spec(20 * kMs, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  struct pollfd p = {fd.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(poll(&p, 1, 10000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);  // never writable
  EXPECT_EQ(ReadCount(fd.get()), 1u);
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(TimerfdTest, EpollLevelAndEdgeTriggered) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK);
  int ep_raw = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_THAT(ep_raw, SyscallSucceeds());
  FileDescriptor ep(ep_raw);
  struct epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 77;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev), SyscallSucceeds());
  struct itimerspec s = Spec(10 * kMs, 10 * kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  struct epoll_event out[2];
  ASSERT_THAT(epoll_wait(ep.get(), out, 2, 10000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(out[0].data.u64, 77u);
  EXPECT_EQ(out[0].events, uint32_t(EPOLLIN));
  EXPECT_GE(ReadCount(fd.get()), 1u);
  // The next period is a new event, also for an edge-triggered interest.
  ASSERT_THAT(epoll_wait(ep.get(), out, 2, 10000), SyscallSucceedsWithValue(1));
  EXPECT_GE(ReadCount(fd.get()), 1u);
  // Disarmed: nothing more.
  struct itimerspec zero = Spec(0, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &zero, nullptr), SyscallSucceeds());
  EXPECT_THAT(epoll_wait(ep.get(), out, 2, 30), SyscallSucceedsWithValue(0));
}

TEST(TimerfdTest, ForkedChildSharesTheTimer) {
  FileDescriptor fd = MakeTimerfd(CLOCK_MONOTONIC, 0);
  struct itimerspec s = Spec(20 * kMs, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  // "A file descriptor created by timerfd_create() is inherited by the
  // child of a fork(2) ... refer to the same timer object."
  int status = RunInChild([&] {
    uint64_t v = 0;
    CHILD_CHECK(read(fd.get(), &v, sizeof(v)) == 8);
    CHILD_CHECK(v == 1);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  uint64_t v;
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EAGAIN));
}

}  // namespace
}  // namespace palisade::testing
