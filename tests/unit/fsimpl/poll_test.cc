// poll, ppoll, select and pselect6 handlers (sys_poll.cc) and the wait
// engine under them (sys_poll_wait.cc): revents and POLLNVAL, fd_set
// rules, timeouts and their write-back, signals and temporary masks, and
// sleeping on several host fds at once.
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <unistd.h>

#include <initializer_list>
#include <thread>

#include "sentry/fsimpl/dev/host_stdio.h"
#include "sentry/fsimpl/pipe/pipe_file.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/syscalls/handlers.h"
#include "tests/unit/fsimpl/io_test_util.h"

namespace palisade::testing {
namespace {

SyscallArgs Args(std::initializer_list<uint64_t> v) {
  SyscallArgs a;
  int i = 0;
  for (uint64_t x : v) a.args[i++].raw = x;
  return a;
}

class PollTest : public IoTest {
 protected:
  void SetUp() override {
    auto [rd, wr] = MakePipe(O_NONBLOCK);
    rfd_ = *t().fds().Add(rd, false);
    wfd_ = *t().fds().Add(wr, false);
  }
  void Put(int fd) {
    std::vector<uint8_t> b = {1};
    ASSERT_TRUE(t().fds().Get(fd)->Write(t(), b).ok());
  }
  SyscallResult Poll(struct pollfd* fds, uint64_t n, int timeout_ms) {
    return sys::Poll(t(), Args({Addr(fds), n, uint64_t(int64_t(timeout_ms))}));
  }
  int rfd_ = -1, wfd_ = -1;
};

TEST_F(PollTest, ReportsReadyFiles) {
  struct pollfd fds[2] = {{rfd_, POLLIN, 0}, {wfd_, POLLOUT, 0}};
  EXPECT_EQ(Poll(fds, 2, 0).raw(), 1);
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, POLLOUT);
  Put(wfd_);
  EXPECT_EQ(Poll(fds, 2, 0).raw(), 2);
  EXPECT_EQ(fds[0].revents, POLLIN);
}

TEST_F(PollTest, NvalAndNegativeFds) {
  struct pollfd fds[3] = {{555, POLLIN, 0}, {-1, POLLIN, 77}, {rfd_, POLLIN, 0}};
  EXPECT_EQ(Poll(fds, 3, 0).raw(), 1);
  EXPECT_EQ(fds[0].revents, POLLNVAL);
  EXPECT_EQ(fds[1].revents, 0);  // ignored, revents cleared
  EXPECT_EQ(fds[2].revents, 0);
}

TEST_F(PollTest, HupAndErrNeedNotBeAsked) {
  struct pollfd fds[2] = {{rfd_, 0, 0}, {wfd_, 0, 0}};
  (void)t().fds().Remove(wfd_);
  EXPECT_EQ(Poll(fds, 1, 0).raw(), 1);
  EXPECT_EQ(fds[0].revents, POLLHUP);
}

TEST_F(PollTest, ArgumentErrors) {
  struct pollfd fds[2] = {{rfd_, POLLIN, 0}, {rfd_, POLLIN, 0}};
  EXPECT_EQ(sys::Poll(t(), Args({kBadAddr, 1, 0})).error(), Errno(EFAULT));
  SetNofile(1);
  EXPECT_EQ(Poll(fds, 2, 0).error(), Errno(EINVAL));  // nfds > RLIMIT_NOFILE
  EXPECT_EQ(Poll(fds, 1, 0).raw(), 0);
}

TEST_F(PollTest, TimeoutAndWake) {
  struct pollfd fds[1] = {{rfd_, POLLIN, 0}};
  int64_t start = MonotonicNowNs();
  EXPECT_EQ(Poll(fds, 1, 30).raw(), 0);
  EXPECT_GE(MonotonicNowNs() - start, 30 * 1000 * 1000);
  std::thread writer([&] {
    usleep(30 * 1000);
    Put(wfd_);
  });
  EXPECT_EQ(Poll(fds, 1, -1).raw(), 1);
  writer.join();
}

TEST_F(PollTest, SignalIsRestartNoHand) {
  struct pollfd fds[1] = {{rfd_, POLLIN, 0}};
  RaiseSignal(SIGUSR1);
  EXPECT_EQ(Poll(fds, 1, -1).error(), Errno(kERESTARTNOHAND));
  Put(wfd_);
  EXPECT_EQ(Poll(fds, 1, -1).raw(), 1);  // ready fds win over the signal
}

TEST_F(PollTest, NoFdsIsASleep) {
  int64_t start = MonotonicNowNs();
  EXPECT_EQ(sys::Poll(t(), Args({0, 0, 20})).raw(), 0);
  EXPECT_GE(MonotonicNowNs() - start, 20 * 1000 * 1000);
}

TEST_F(PollTest, PpollWritesBackRemainingTime) {
  struct pollfd fds[1] = {{rfd_, POLLIN, 0}};
  struct timespec ts = {5, 0};
  Put(wfd_);
  EXPECT_EQ(sys::Ppoll(t(), Args({Addr(fds), 1, Addr(&ts), 0, 8})).raw(), 1);
  EXPECT_TRUE(ts.tv_sec == 4 || ts.tv_sec == 5);
  EXPECT_LT(ts.tv_sec * 1000000000ll + ts.tv_nsec, 5000000000ll);
  struct timespec bad = {0, -1};
  EXPECT_EQ(sys::Ppoll(t(), Args({Addr(fds), 1, Addr(&bad), 0, 8})).error(), Errno(EINVAL));
  struct timespec zero = {0, 0};
  EXPECT_EQ(sys::Ppoll(t(), Args({Addr(fds), 1, Addr(&zero), 0, 8})).raw(), 1);
}

TEST_F(PollTest, PpollSigmask) {
  struct pollfd fds[1] = {{rfd_, POLLIN, 0}};
  SigSet normal;
  normal.Add(SIGUSR1);
  t().set_signal_mask(normal);
  SigSet temp;
  temp.Add(SIGKILL);  // cannot be blocked: dropped
  struct timespec zero = {0, 0};
  EXPECT_EQ(sys::Ppoll(t(), Args({Addr(fds), 1, Addr(&zero), Addr(&temp.bits), 4})).error(), Errno(EINVAL));
  EXPECT_EQ(sys::Ppoll(t(), Args({Addr(fds), 1, Addr(&zero), Addr(&temp.bits), 8})).raw(), 0);
  EXPECT_EQ(t().signal_mask(), normal);  // back after a normal return

  RaiseSignal(SIGUSR1);  // blocked normally, let through by the temporary mask
  EXPECT_EQ(sys::Ppoll(t(), Args({Addr(fds), 1, 0, Addr(&temp.bits), 8})).error(), Errno(kERESTARTNOHAND));
  EXPECT_EQ(t().signal_mask(), SigSet{});  // kept for the delivery
  std::lock_guard<std::mutex> l(t().kernel().mu());
  EXPECT_EQ(t().internals().saved_mask.value_or(SigSet{}), normal);
}

// --- select

class SelectTest : public PollTest {
 protected:
  SyscallResult Select(int n, fd_set* in, fd_set* out, fd_set* ex, struct timeval* tv) {
    return sys::Select(t(), Args({uint64_t(n), Addr(in), Addr(out), Addr(ex), Addr(tv)}));
  }
};

TEST_F(SelectTest, ReadyBitsAndCount) {
  fd_set in, out;
  FD_ZERO(&in);
  FD_ZERO(&out);
  FD_SET(rfd_, &in);
  FD_SET(wfd_, &in);
  FD_SET(wfd_, &out);
  struct timeval tv = {0, 0};
  int n = std::max(rfd_, wfd_) + 1;
  EXPECT_EQ(Select(n, &in, &out, nullptr, &tv).raw(), 1);
  EXPECT_FALSE(FD_ISSET(rfd_, &in));
  EXPECT_FALSE(FD_ISSET(wfd_, &in));
  EXPECT_TRUE(FD_ISSET(wfd_, &out));
  FD_SET(rfd_, &in);
  FD_SET(rfd_, &out);  // a read end is never writable
  FD_SET(wfd_, &out);
  Put(wfd_);
  EXPECT_EQ(Select(n, &in, &out, nullptr, &tv).raw(), 2);
  EXPECT_TRUE(FD_ISSET(rfd_, &in));
  EXPECT_FALSE(FD_ISSET(rfd_, &out));
}

TEST_F(SelectTest, Errors) {
  fd_set in;
  FD_ZERO(&in);
  struct timeval tv = {0, 0};
  EXPECT_EQ(Select(-1, &in, nullptr, nullptr, &tv).error(), Errno(EINVAL));
  FD_SET(40, &in);  // not open
  EXPECT_EQ(Select(41, &in, nullptr, nullptr, &tv).error(), Errno(EBADF));
  EXPECT_EQ(sys::Select(t(), Args({41, kBadAddr, 0, 0, Addr(&tv)})).error(), Errno(EFAULT));
  struct timeval neg = {0, -1};
  EXPECT_EQ(Select(0, nullptr, nullptr, nullptr, &neg).error(), Errno(EINVAL));
}

TEST_F(SelectTest, BitsBeyondTheFdTableAreIgnored) {
  fd_set in;
  FD_ZERO(&in);
  FD_SET(1000, &in);  // past the (64-slot) table of this process: ignored
  struct timeval tv = {0, 0};
  EXPECT_EQ(Select(1001, &in, nullptr, nullptr, &tv).raw(), 0);
}

TEST_F(SelectTest, TimeoutZeroesSetsAndWritesBackTime) {
  fd_set in;
  FD_ZERO(&in);
  FD_SET(rfd_, &in);
  struct timeval tv = {0, 1500000};  // usec past a second carry over
  int64_t start = MonotonicNowNs();
  EXPECT_EQ(Select(rfd_ + 1, &in, nullptr, nullptr, &tv).raw(), 0);
  EXPECT_GE(MonotonicNowNs() - start, 1500ll * 1000 * 1000);
  EXPECT_FALSE(FD_ISSET(rfd_, &in));
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

TEST_F(SelectTest, InterruptedLeavesSetsAlone) {
  fd_set in;
  FD_ZERO(&in);
  FD_SET(rfd_, &in);
  RaiseSignal(SIGUSR1);
  EXPECT_EQ(Select(rfd_ + 1, &in, nullptr, nullptr, nullptr).error(), Errno(kERESTARTNOHAND));
  EXPECT_TRUE(FD_ISSET(rfd_, &in));
}

TEST_F(SelectTest, Pselect6WithSigmask) {
  fd_set in;
  FD_ZERO(&in);
  FD_SET(rfd_, &in);
  SigSet temp;
  temp.Add(SIGUSR2);
  struct {
    uint64_t ss, len;
  } sig = {Addr(&temp.bits), 8};
  struct timespec ts = {0, 1000000};
  EXPECT_EQ(sys::Pselect6(t(), Args({uint64_t(rfd_ + 1), Addr(&in), 0, 0, Addr(&ts), Addr(&sig)})).raw(), 0);
  EXPECT_EQ(ts.tv_sec, 0);
  EXPECT_EQ(ts.tv_nsec, 0);
  EXPECT_EQ(t().signal_mask(), SigSet{});
  sig.len = 16;
  EXPECT_EQ(sys::Pselect6(t(), Args({uint64_t(rfd_ + 1), Addr(&in), 0, 0, Addr(&ts), Addr(&sig)})).error(),
            Errno(EINVAL));
}

// --- host fds: several at once go through a temporary host epoll

class HostPollTest : public PollTest {
 protected:
  void SetUp() override {
    PollTest::SetUp();
    for (auto& p : pipes_) ASSERT_EQ(pipe(p), 0);
    for (int i = 0; i < 2; i++) {
      FileRef f = dev::NewHostStdioFile(pipes_[i][0], O_RDONLY);
      ASSERT_NE(f, nullptr);
      host_fds_[i] = *t().fds().Add(f, false);
    }
  }
  void TearDown() override {
    for (auto& p : pipes_) {
      close(p[0]);
      close(p[1]);
    }
  }
  int pipes_[2][2];
  int host_fds_[2];
};

TEST_F(HostPollTest, WakesOnEitherHostFd) {
  struct pollfd fds[3] = {{host_fds_[0], POLLIN, 0}, {host_fds_[1], POLLIN, 0}, {rfd_, POLLIN, 0}};
  EXPECT_EQ(Poll(fds, 3, 0).raw(), 0);
  std::thread writer([&] {
    usleep(30 * 1000);
    ASSERT_EQ(write(pipes_[1][1], "x", 1), 1);
  });
  EXPECT_EQ(Poll(fds, 3, 5000).raw(), 1);
  writer.join();
  EXPECT_EQ(fds[1].revents, POLLIN);
  EXPECT_EQ(fds[0].revents, 0);
}

TEST_F(HostPollTest, SentryFileWakesTooWithHostFdsAround) {
  struct pollfd fds[3] = {{host_fds_[0], POLLIN, 0}, {host_fds_[1], POLLIN, 0}, {rfd_, POLLIN, 0}};
  std::thread writer([&] {
    usleep(30 * 1000);
    Put(wfd_);
  });
  EXPECT_EQ(Poll(fds, 3, 5000).raw(), 1);
  writer.join();
  EXPECT_EQ(fds[2].revents, POLLIN);
}

}  // namespace
}  // namespace palisade::testing
