// epoll_create1(2), epoll_ctl(2), epoll_wait(2)/epoll_pwait(2) and epoll(7):
// level-triggered, edge-triggered and one-shot delivery.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

std::atomic<int> g_usr1_count{0};
void CountUsr1(int) { g_usr1_count++; }

class EpollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ASSERT_THAT(ep, SyscallSucceeds());
    ep_.reset(ep);
    int fds[2];
    ASSERT_THAT(pipe2(fds, O_NONBLOCK), SyscallSucceeds());
    r_.reset(fds[0]);
    w_.reset(fds[1]);
  }
  int Add(int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev {};
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  int Wait(struct epoll_event* evs, int max, int timeout_ms) {
    return epoll_wait(ep_.get(), evs, max, timeout_ms);
  }
  FileDescriptor ep_, r_, w_;
};

TEST_F(EpollTest, CreateFlags) {
  EXPECT_THAT(fcntl(ep_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(epoll_create1(0x1234), SyscallFailsWithErrno(EINVAL));
  // epoll_create(2): "EINVAL size is not positive."
  EXPECT_THAT(epoll_create(0), SyscallFailsWithErrno(EINVAL));
  int old = epoll_create(1);
  EXPECT_THAT(old, SyscallSucceeds());
  if (old >= 0) close(old);
}

TEST_F(EpollTest, CtlErrors) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 1), SyscallSucceeds());
  EXPECT_THAT(Add(r_.get(), EPOLLIN, 1), SyscallFailsWithErrno(EEXIST));
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  EXPECT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_MOD, w_.get(), &ev), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_DEL, w_.get(), &ev), SyscallFailsWithErrno(ENOENT));
  // "EINVAL epfd is not an epoll file descriptor, or fd is the same as epfd"
  EXPECT_THAT(Add(ep_.get(), EPOLLIN, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_ctl(r_.get(), EPOLL_CTL_ADD, w_.get(), &ev), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_ctl(ep_.get(), 12345, r_.get(), &ev), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Add(-1, EPOLLIN, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(epoll_ctl(-1, EPOLL_CTL_ADD, r_.get(), &ev), SyscallFailsWithErrno(EBADF));
  // "EPERM The target file fd does not support epoll ... a regular file".
  TempDir dir;
  std::string f = dir.CreateFile("f", "x");
  int fd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  EXPECT_THAT(Add(fd, EPOLLIN, 0), SyscallFailsWithErrno(EPERM));
}

TEST_F(EpollTest, WaitErrors) {
  struct epoll_event ev;
  // "EINVAL ... maxevents is less than or equal to zero."
  EXPECT_THAT(Wait(&ev, 0, 0), SyscallFailsWithErrno(EINVAL));
  // Raw syscall: the libc prototype's access attribute rejects -1 at compile time.
  EXPECT_THAT(syscall(SYS_epoll_wait, ep_.get(), &ev, -1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(r_.get(), &ev, 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(-1, &ev, 1, 0), SyscallFailsWithErrno(EBADF));
  ASSERT_THAT(Add(w_.get(), EPOLLOUT, 0), SyscallSucceeds());
  EXPECT_THAT(Wait(static_cast<struct epoll_event*>(BadPointer()), 1, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(EpollTest, EmptyWaitTimesOut) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 7), SyscallSucceeds());
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(Wait(&ev, 1, 30), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, LevelTriggeredRepeatsUntilDrained) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 0xdeadbeefcafeULL), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "abc", 3), SyscallSucceeds());
  struct epoll_event ev;
  for (int i = 0; i < 3; i++) {
    ASSERT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(1)) << "round " << i;
    EXPECT_EQ(ev.events, static_cast<uint32_t>(EPOLLIN));
    EXPECT_EQ(ev.data.u64, 0xdeadbeefcafeULL);
  }
  char buf[8];
  ASSERT_THAT(read(r_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, EdgeTriggeredReportsOnlyNewData) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN | EPOLLET, 1), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "abc", 3), SyscallSucceeds());
  struct epoll_event ev;
  ASSERT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(1));
  // Data is still there, but no new edge.
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(w_.get(), "d", 1), SyscallSucceeds());
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, OneshotDisablesUntilRearmed) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN | EPOLLONESHOT, 2), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "a", 1), SyscallSucceeds());
  struct epoll_event ev;
  ASSERT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(w_.get(), "b", 1), SyscallSucceeds());
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
  // The fd stays registered: ADD again is EEXIST, MOD re-arms it.
  EXPECT_THAT(Add(r_.get(), EPOLLIN, 2), SyscallFailsWithErrno(EEXIST));
  struct epoll_event mod {};
  mod.events = EPOLLIN | EPOLLONESHOT;
  mod.data.u64 = 3;
  ASSERT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_MOD, r_.get(), &mod), SyscallSucceeds());
  ASSERT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.data.u64, 3u);
}

TEST_F(EpollTest, DeleteStopsEvents) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 0), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "a", 1), SyscallSucceeds());
  ASSERT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_DEL, r_.get(), nullptr), SyscallSucceeds());
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, ClosingLastDescriptorRemovesRegistration) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 0), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "a", 1), SyscallSucceeds());
  r_.reset();
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, MultipleDescriptorsAndMaxevents) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 10), SyscallSucceeds());
  ASSERT_THAT(Add(w_.get(), EPOLLOUT, 20), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "a", 1), SyscallSucceeds());
  struct epoll_event evs[4];
  ASSERT_THAT(Wait(evs, 4, 0), SyscallSucceedsWithValue(2));
  std::set<uint64_t> seen = {evs[0].data.u64, evs[1].data.u64};
  EXPECT_EQ(seen, (std::set<uint64_t>{10, 20}));
  EXPECT_THAT(Wait(evs, 1, 0), SyscallSucceedsWithValue(1));
}

TEST_F(EpollTest, HangupReportedWithoutAsking) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 0), SyscallSucceeds());
  w_.reset();
  struct epoll_event ev;
  ASSERT_THAT(Wait(&ev, 1, 0), SyscallSucceedsWithValue(1));
  // "EPOLLHUP ... epoll_wait(2) will always wait for this event".
  EXPECT_NE(ev.events & EPOLLHUP, 0u);
}

TEST_F(EpollTest, BlockingWaitWakesOnWrite) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 5), SyscallSucceeds());
  std::thread writer([&] {
    usleep(50 * 1000);
    (void)!write(w_.get(), "x", 1);
  });
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1, 60 * 1000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.data.u64, 5u);
  writer.join();
}

TEST_F(EpollTest, NestedEpollBecomesReadable) {
  int outer = epoll_create1(0);
  ASSERT_THAT(outer, SyscallSucceeds());
  FileDescriptor og(outer);
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.u64 = 99;
  ASSERT_THAT(epoll_ctl(outer, EPOLL_CTL_ADD, ep_.get(), &ev), SyscallSucceeds());
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 1), SyscallSucceeds());
  EXPECT_THAT(epoll_wait(outer, &ev, 1, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(w_.get(), "x", 1), SyscallSucceeds());
  ASSERT_THAT(epoll_wait(outer, &ev, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.data.u64, 99u);
}

TEST_F(EpollTest, PwaitSigmaskLetsBlockedSignalInterrupt) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 0), SyscallSucceeds());
  ScopedSigaction act(SIGUSR1, CountUsr1);
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  g_usr1_count = 0;
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigset_t during;
  sigemptyset(&during);
  struct epoll_event ev;
  EXPECT_THAT(epoll_pwait(ep_.get(), &ev, 1, 30 * 1000, &during), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_usr1_count, 1);
}

}  // namespace
}  // namespace palisade::testing
