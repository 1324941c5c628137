// The epoll syscall handlers (sys_epoll.cc): argument checks in Linux's
// order, errnos of epoll_ctl, copy-out of events, and the temporary signal
// mask of epoll_pwait.
#include <signal.h>
#include <sys/epoll.h>

#include <initializer_list>

#include "sentry/fsimpl/dev/devfs.h"
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

class EpollSyscallTest : public IoTest {
 protected:
  void SetUp() override {
    SyscallResult r = sys::EpollCreate1(t(), Args({0}));
    ASSERT_TRUE(r.ok());
    ep_ = static_cast<int>(r.raw());
    auto [rd, wr] = MakePipe(O_NONBLOCK);
    rfd_ = *t().fds().Add(rd, false);
    wfd_ = *t().fds().Add(wr, false);
  }
  SyscallResult Ctl(int op, int fd, uint32_t events, uint64_t data = 0) {
    ev_.events = events;
    ev_.data.u64 = data;
    return sys::EpollCtl(t(), Args({uint64_t(ep_), uint64_t(op), uint64_t(fd), Addr(&ev_)}));
  }
  void Put() {
    std::vector<uint8_t> b = {1};
    ASSERT_TRUE(t().fds().Get(wfd_)->Write(t(), b).ok());
  }
  int ep_ = -1, rfd_ = -1, wfd_ = -1;
  struct epoll_event ev_ {};
};

TEST_F(EpollSyscallTest, Create) {
  EXPECT_EQ(sys::EpollCreate(t(), Args({0})).error(), Errno(EINVAL));
  EXPECT_EQ(sys::EpollCreate(t(), Args({uint64_t(-1)})).error(), Errno(EINVAL));
  EXPECT_TRUE(sys::EpollCreate(t(), Args({1})).ok());
  EXPECT_EQ(sys::EpollCreate1(t(), Args({O_NONBLOCK})).error(), Errno(EINVAL));
  SyscallResult r = sys::EpollCreate1(t(), Args({EPOLL_CLOEXEC}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(t().fds().GetCloexec(static_cast<int>(r.raw())));
  EXPECT_FALSE(t().fds().GetCloexec(ep_));
}

TEST_F(EpollSyscallTest, CtlErrors) {
  EXPECT_EQ(sys::EpollCtl(t(), Args({999, EPOLL_CTL_ADD, uint64_t(rfd_), Addr(&ev_)})).error(), Errno(EBADF));
  EXPECT_EQ(Ctl(EPOLL_CTL_ADD, 999, EPOLLIN).error(), Errno(EBADF));
  EXPECT_EQ(Ctl(EPOLL_CTL_ADD, ep_, EPOLLIN).error(), Errno(EINVAL));  // itself
  EXPECT_EQ(sys::EpollCtl(t(), Args({uint64_t(rfd_), EPOLL_CTL_ADD, uint64_t(wfd_), Addr(&ev_)})).error(),
            Errno(EINVAL));  // not an epoll fd
  EXPECT_EQ(Ctl(99, rfd_, EPOLLIN).error(), Errno(EINVAL));
  EXPECT_EQ(sys::EpollCtl(t(), Args({uint64_t(ep_), EPOLL_CTL_ADD, uint64_t(rfd_), kBadAddr})).error(),
            Errno(EFAULT));
  EXPECT_EQ(Ctl(EPOLL_CTL_MOD, rfd_, EPOLLIN).error(), Errno(ENOENT));
  ASSERT_TRUE(Ctl(EPOLL_CTL_ADD, rfd_, EPOLLIN).ok());
  EXPECT_EQ(Ctl(EPOLL_CTL_ADD, rfd_, EPOLLIN).error(), Errno(EEXIST));
  // DEL takes no event: a null pointer is fine.
  EXPECT_TRUE(sys::EpollCtl(t(), Args({uint64_t(ep_), EPOLL_CTL_DEL, uint64_t(rfd_), 0})).ok());
  EXPECT_EQ(sys::EpollCtl(t(), Args({uint64_t(ep_), EPOLL_CTL_DEL, uint64_t(rfd_), 0})).error(), Errno(ENOENT));
}

TEST_F(EpollSyscallTest, ExclusiveRules) {
  EXPECT_EQ(Ctl(EPOLL_CTL_ADD, rfd_, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT).error(), Errno(EINVAL));
  ASSERT_TRUE(Ctl(EPOLL_CTL_ADD, rfd_, EPOLLIN | EPOLLEXCLUSIVE).ok());
  EXPECT_EQ(Ctl(EPOLL_CTL_MOD, rfd_, EPOLLIN | EPOLLEXCLUSIVE).error(), Errno(EINVAL));
  EXPECT_EQ(Ctl(EPOLL_CTL_MOD, rfd_, EPOLLIN).error(), Errno(EINVAL));  // an exclusive interest is fixed
  int other = static_cast<int>(sys::EpollCreate1(t(), Args({0})).raw());
  EXPECT_EQ(Ctl(EPOLL_CTL_ADD, other, EPOLLIN | EPOLLEXCLUSIVE).error(), Errno(EINVAL));
}

TEST_F(EpollSyscallTest, UnpollableFilesAreEperm) {
  InodeRef dev = dev::NewDevfsRoot({.fsid = 77, .tty_host_fd = -1});
  for (const char* name : {"null", "zero", "full", "urandom"}) {
    auto node = dev->Lookup(name);
    ASSERT_TRUE(node.ok());
    auto f = (*node)->Open({.flags = O_RDWR});
    ASSERT_TRUE(f.ok());
    int fd = *t().fds().Add(*f, false);
    EXPECT_EQ(Ctl(EPOLL_CTL_ADD, fd, EPOLLIN).error(), Errno(EPERM)) << name;
  }
  auto random = (*dev->Lookup("random"))->Open({.flags = O_RDONLY});
  int fd = *t().fds().Add(*random, false);
  EXPECT_TRUE(Ctl(EPOLL_CTL_ADD, fd, EPOLLIN).ok());  // /dev/random has poll
}

TEST_F(EpollSyscallTest, WaitArgumentChecks) {
  struct epoll_event out[4];
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(ep_), Addr(out), 0, 0})).error(), Errno(EINVAL));
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(ep_), Addr(out), uint64_t(-1), 0})).error(), Errno(EINVAL));
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(ep_), Addr(out), 0x7fffffff, 0})).error(), Errno(EINVAL));
  EXPECT_EQ(sys::EpollWait(t(), Args({999, Addr(out), 4, 0})).error(), Errno(EBADF));
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(rfd_), Addr(out), 4, 0})).error(), Errno(EINVAL));
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(ep_), 0x7ffffffff000ull, 4, 0})).error(), Errno(EFAULT));
}

TEST_F(EpollSyscallTest, WaitCopiesEventsOut) {
  ASSERT_TRUE(Ctl(EPOLL_CTL_ADD, rfd_, EPOLLIN, 0x1234567890ull).ok());
  struct epoll_event out[4] = {};
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(ep_), Addr(out), 4, 0})).raw(), 0);
  Put();
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(ep_), Addr(out), 4, uint64_t(-1)})).raw(), 1);
  EXPECT_EQ(out[0].events, uint32_t(EPOLLIN));
  EXPECT_EQ(uint64_t{out[0].data.u64}, 0x1234567890ull);
  EXPECT_EQ(sys::EpollWait(t(), Args({uint64_t(ep_), kBadAddr, 4, 0})).error(), Errno(EFAULT));
}

TEST_F(EpollSyscallTest, PwaitMaskIsRestoredAfterANormalReturn) {
  SigSet before;
  before.Add(SIGUSR2);
  t().set_signal_mask(before);
  SigSet temp;
  temp.Add(SIGUSR1);
  struct epoll_event out[1];
  EXPECT_EQ(sys::EpollPwait(t(), Args({uint64_t(ep_), Addr(out), 1, 0, Addr(&temp.bits), 7})).error(),
            Errno(EINVAL));  // sigsetsize must be 8
  EXPECT_EQ(sys::EpollPwait(t(), Args({uint64_t(ep_), Addr(out), 1, 0, kBadAddr, 8})).error(), Errno(EFAULT));
  EXPECT_EQ(sys::EpollPwait(t(), Args({uint64_t(ep_), Addr(out), 1, 0, Addr(&temp.bits), 8})).raw(), 0);
  EXPECT_EQ(t().signal_mask(), before);
}

TEST_F(EpollSyscallTest, PwaitInterruptedKeepsTheTemporaryMask) {
  SigSet before;
  before.Add(SIGUSR1);  // blocked normally...
  t().set_signal_mask(before);
  SigSet temp;  // ...let through while waiting
  RaiseSignal(SIGUSR1);
  struct epoll_event out[1];
  SyscallResult r = sys::EpollPwait(t(), Args({uint64_t(ep_), Addr(out), 1, uint64_t(-1), Addr(&temp.bits), 8}));
  EXPECT_EQ(r.error(), Errno(EINTR));  // never restarted
  EXPECT_EQ(t().signal_mask(), temp);  // until the signal code delivers
  std::lock_guard<std::mutex> l(t().kernel().mu());
  ASSERT_TRUE(t().internals().saved_mask.has_value());
  EXPECT_EQ(*t().internals().saved_mask, before);
}

TEST_F(EpollSyscallTest, Pwait2Timeouts) {
  struct epoll_event out[1];
  struct timespec bad = {0, 1000000000};
  EXPECT_EQ(sys::EpollPwait2(t(), Args({uint64_t(ep_), Addr(out), 1, Addr(&bad), 0, 0})).error(), Errno(EINVAL));
  struct timespec ten_ms = {0, 10 * 1000 * 1000};
  int64_t start = MonotonicNowNs();
  EXPECT_EQ(sys::EpollPwait2(t(), Args({uint64_t(ep_), Addr(out), 1, Addr(&ten_ms), 0, 0})).raw(), 0);
  EXPECT_GE(MonotonicNowNs() - start, 10 * 1000 * 1000);
}

}  // namespace
}  // namespace palisade::testing
