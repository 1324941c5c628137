// poll(2)/ppoll(2) and select(2)/pselect(2) on pipes: readiness, hang-up,
// POLLNVAL, timeouts and the atomically installed signal mask.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/time_util.h"

namespace palisade::testing {
namespace {

std::atomic<int> g_usr1_count{0};
void CountUsr1(int) { g_usr1_count++; }

class PollSelectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_THAT(pipe(fds), SyscallSucceeds());
    r_.reset(fds[0]);
    w_.reset(fds[1]);
  }
  FileDescriptor r_, w_;
};

TEST_F(PollSelectTest, PollReportsReadiness) {
  struct pollfd p[2] = {{r_.get(), POLLIN, 0}, {w_.get(), POLLOUT, 0}};
  // Only the write end is ready: an empty pipe has room.
  EXPECT_THAT(poll(p, 2, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p[0].revents, 0);
  EXPECT_EQ(p[1].revents, POLLOUT);
  ASSERT_THAT(write(w_.get(), "x", 1), SyscallSucceeds());
  EXPECT_THAT(poll(p, 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(p[0].revents, POLLIN);
}

TEST_F(PollSelectTest, PollHupWhenWriterClosed) {
  w_.reset();
  struct pollfd p = {r_.get(), POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_NE(p.revents & POLLHUP, 0) << "revents " << p.revents;
}

TEST_F(PollSelectTest, PollErrWhenReaderClosed) {
  r_.reset();
  struct pollfd p = {w_.get(), POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  // POLLERR is reported even though it was not requested.
  EXPECT_NE(p.revents & POLLERR, 0) << "revents " << p.revents;
}

TEST_F(PollSelectTest, PollNvalAndNegativeFd) {
  int closed = dup(r_.get());
  ASSERT_THAT(closed, SyscallSucceeds());
  close(closed);
  // "POLLNVAL Invalid request: fd not open"; "If this field is negative,
  // then the corresponding events field is ignored and the revents field
  // returns zero."
  struct pollfd p[2] = {{closed, POLLIN, 0}, {-1, POLLIN, 0x7}};
  EXPECT_THAT(poll(p, 2, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p[0].revents, POLLNVAL);
  EXPECT_EQ(p[1].revents, 0);
}

TEST_F(PollSelectTest, PollTimeoutWaitsAtLeastTimeout) {
  struct pollfd p = {r_.get(), POLLIN, 0};
  int64_t start = MonotonicNowNs();
  EXPECT_THAT(poll(&p, 1, 100), SyscallSucceedsWithValue(0));
  EXPECT_GE(MonotonicNowNs() - start, 95 * kMs);
  EXPECT_EQ(p.revents, 0);
}

TEST_F(PollSelectTest, PollWakesWhenDataArrives) {
  std::thread writer([&] {
    usleep(50 * 1000);
    (void)!write(w_.get(), "y", 1);
  });
  struct pollfd p = {r_.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 60 * 1000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
  writer.join();
}

TEST_F(PollSelectTest, PollErrors) {
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  struct pollfd p = {r_.get(), POLLIN, 0};
  // "EINVAL The nfds value exceeds the RLIMIT_NOFILE value."
  EXPECT_THAT(poll(&p, rl.rlim_cur + 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(poll(static_cast<struct pollfd*>(BadPointer()), 1, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(PollSelectTest, PpollTimeoutAndInvalidTimespec) {
  struct pollfd p = {r_.get(), POLLIN, 0};
  struct timespec ts = {0, 20 * 1000 * 1000};
  EXPECT_THAT(ppoll(&p, 1, &ts, nullptr), SyscallSucceedsWithValue(0));
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(ppoll(&p, 1, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  bad = {-1, 0};
  EXPECT_THAT(ppoll(&p, 1, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
}

TEST_F(PollSelectTest, PpollSigmaskLetsBlockedSignalInterrupt) {
  ScopedSigaction act(SIGUSR1, CountUsr1);
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  g_usr1_count = 0;
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_usr1_count, 0) << "blocked signal must stay pending";
  sigset_t during;
  sigemptyset(&during);
  struct pollfd p = {r_.get(), POLLIN, 0};
  struct timespec ts = {30, 0};
  // The pending signal is delivered once ppoll installs the empty mask.
  EXPECT_THAT(ppoll(&p, 1, &ts, &during), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_usr1_count, 1);
  // The old mask is back: SIGUSR1 is blocked again.
  sigset_t now;
  sigprocmask(SIG_BLOCK, nullptr, &now);
  EXPECT_TRUE(sigismember(&now, SIGUSR1));
}

TEST_F(PollSelectTest, SelectReportsReadiness) {
  fd_set rd, wr;
  FD_ZERO(&rd);
  FD_ZERO(&wr);
  FD_SET(r_.get(), &rd);
  FD_SET(w_.get(), &wr);
  int nfds = std::max(r_.get(), w_.get()) + 1;
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(nfds, &rd, &wr, nullptr, &tv), SyscallSucceedsWithValue(1));
  EXPECT_FALSE(FD_ISSET(r_.get(), &rd));
  EXPECT_TRUE(FD_ISSET(w_.get(), &wr));
  ASSERT_THAT(write(w_.get(), "x", 1), SyscallSucceeds());
  FD_ZERO(&rd);
  FD_SET(r_.get(), &rd);
  tv = {0, 0};
  EXPECT_THAT(select(nfds, &rd, nullptr, nullptr, &tv), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(FD_ISSET(r_.get(), &rd));
}

TEST_F(PollSelectTest, SelectTimeoutIsUpdated) {
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(r_.get(), &rd);
  struct timeval tv = {0, 50 * 1000};
  int64_t start = MonotonicNowNs();
  EXPECT_THAT(select(r_.get() + 1, &rd, nullptr, nullptr, &tv), SyscallSucceedsWithValue(0));
  EXPECT_GE(MonotonicNowNs() - start, 45 * kMs);
  // "On Linux, select() modifies timeout to reflect the amount of time not
  // slept"; after a full timeout that is zero.
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
  EXPECT_FALSE(FD_ISSET(r_.get(), &rd)) << "sets are cleared on timeout";
}

TEST_F(PollSelectTest, SelectWithNoSetsSleeps) {
  struct timeval tv = {0, 30 * 1000};
  int64_t start = MonotonicNowNs();
  EXPECT_THAT(select(0, nullptr, nullptr, nullptr, &tv), SyscallSucceedsWithValue(0));
  EXPECT_GE(MonotonicNowNs() - start, 25 * kMs);
}

TEST_F(PollSelectTest, SelectErrors) {
  fd_set rd;
  FD_ZERO(&rd);
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(-1, &rd, nullptr, nullptr, &tv), SyscallFailsWithErrno(EINVAL));
  // "EINVAL The value contained within timeout is invalid." (Linux folds
  // excess microseconds into seconds, but a negative time is invalid.)
  tv = {-1, 0};
  EXPECT_THAT(select(1, &rd, nullptr, nullptr, &tv), SyscallFailsWithErrno(EINVAL));
  int closed = dup(r_.get());
  ASSERT_THAT(closed, SyscallSucceeds());
  close(closed);
  FD_ZERO(&rd);
  FD_SET(closed, &rd);
  tv = {0, 0};
  // "EBADF An invalid file descriptor was given in one of the sets."
  EXPECT_THAT(select(closed + 1, &rd, nullptr, nullptr, &tv), SyscallFailsWithErrno(EBADF));
}

TEST_F(PollSelectTest, PselectSigmaskLetsBlockedSignalInterrupt) {
  ScopedSigaction act(SIGUSR1, CountUsr1);
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  g_usr1_count = 0;
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigset_t during;
  sigemptyset(&during);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(r_.get(), &rd);
  struct timespec ts = {30, 0};
  EXPECT_THAT(pselect(r_.get() + 1, &rd, nullptr, nullptr, &ts, &during),
              SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_usr1_count, 1);
}

TEST_F(PollSelectTest, PselectTimeoutAndInvalidTimespec) {
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(r_.get(), &rd);
  struct timespec ts = {0, 10 * 1000 * 1000};
  EXPECT_THAT(pselect(r_.get() + 1, &rd, nullptr, nullptr, &ts, nullptr),
              SyscallSucceedsWithValue(0));
  struct timespec bad = {0, -1};
  FD_SET(r_.get(), &rd);
  EXPECT_THAT(pselect(r_.get() + 1, &rd, nullptr, nullptr, &bad, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
