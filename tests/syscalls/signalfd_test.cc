// signalfd(2)/signalfd4: reading blocked pending signals as
// signalfd_siginfo records, mask updates through the same fd, errors,
// SFD_NONBLOCK/SFD_CLOEXEC, poll/epoll readiness, blocking reads woken by
// another thread, the interplay with sigprocmask/sigpending, and fork.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

sigset_t SetOf(std::initializer_list<int> sigs) {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : sigs) sigaddset(&s, sig);
  return s;
}

FileDescriptor MakeSignalfd(std::initializer_list<int> sigs, int flags) {
  sigset_t s = SetOf(sigs);
  int fd = signalfd(-1, &s, flags);
  EXPECT_THAT(fd, SyscallSucceeds());
  return FileDescriptor(fd);
}

// Drops any pending instance of sig (left by a failed test) by reading it.
void Drain(int sig) {
  sigset_t s = SetOf({sig});
  struct timespec zero = {0, 0};
  while (sigtimedwait(&s, nullptr, &zero) == sig) {
  }
}

class SignalfdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Drain(SIGUSR1);
    Drain(SIGUSR2);
  }
  void TearDown() override {
    Drain(SIGUSR1);
    Drain(SIGUSR2);
  }
  ScopedSignalMask block_{SIG_BLOCK, {SIGUSR1, SIGUSR2}};
};

TEST_F(SignalfdTest, ReadsAPendingSignalWithSender) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  struct signalfd_siginfo si {};
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, uint32_t(SIGUSR1));
  EXPECT_EQ(si.ssi_code, SI_USER);
  EXPECT_EQ(si.ssi_pid, uint32_t(getpid()));
  EXPECT_EQ(si.ssi_uid, getuid());
  // "the signals are consumed": no longer pending.
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&pending, SIGUSR1));
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallFailsWithErrno(EAGAIN));
}

TEST_F(SignalfdTest, SigqueueValueArrives) {
  FileDescriptor fd = MakeSignalfd({SIGUSR2}, SFD_NONBLOCK);
  union sigval v;
  v.sival_int = 4242;
  ASSERT_THAT(sigqueue(getpid(), SIGUSR2, v), SyscallSucceeds());
  struct signalfd_siginfo si {};
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, uint32_t(SIGUSR2));
  EXPECT_EQ(si.ssi_code, SI_QUEUE);
  EXPECT_EQ(si.ssi_int, 4242);
}

TEST_F(SignalfdTest, OneReadReturnsSeveralRecords) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1, SIGUSR2}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  struct signalfd_siginfo si[4] = {};
  ASSERT_THAT(read(fd.get(), si, sizeof(si)), SyscallSucceedsWithValue(2 * sizeof(si[0])));
  std::set<uint32_t> got = {si[0].ssi_signo, si[1].ssi_signo};
  EXPECT_EQ(got, (std::set<uint32_t>{uint32_t(SIGUSR1), uint32_t(SIGUSR2)}));
}

TEST_F(SignalfdTest, BufferTooSmallIsEinval) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  char small[sizeof(struct signalfd_siginfo) - 1];
  EXPECT_THAT(read(fd.get(), small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  // The signal is still there for a correct read.
  struct signalfd_siginfo si {};
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_THAT(write(fd.get(), &si, sizeof(si)), SyscallFailsWithErrno(EINVAL));
}

TEST_F(SignalfdTest, OnlySignalsInTheMaskAreRead) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  struct signalfd_siginfo si {};
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallFailsWithErrno(EAGAIN));
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&pending, SIGUSR2));
}

TEST_F(SignalfdTest, MaskUpdateThroughTheSameFd) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  sigset_t s = SetOf({SIGUSR2});
  // "If fd is not -1, then it must specify a valid existing signalfd file
  // descriptor, and mask is used to replace the signal set".
  ASSERT_THAT(signalfd(fd.get(), &s, 0), SyscallSucceedsWithValue(fd.get()));
  struct signalfd_siginfo si {};
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, uint32_t(SIGUSR2));
}

TEST_F(SignalfdTest, Errors) {
  sigset_t s = SetOf({SIGUSR1});
  // "EINVAL flags is invalid" (and sizemask must be the kernel's sigset size).
  EXPECT_THAT(signalfd(-1, &s, 0x1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &s, 4, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &s, 16, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_signalfd4, -1, BadPointer(), 8, 0), SyscallFailsWithErrno(EFAULT));
  // "EBADF The fd file descriptor is not a valid file descriptor."
  EXPECT_THAT(signalfd(12345, &s, 0), SyscallFailsWithErrno(EBADF));
  // "EINVAL fd is not a valid signalfd file descriptor."
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(signalfd(r.get(), &s, 0), SyscallFailsWithErrno(EINVAL));
  // The old syscall (no flags argument) also works.
  int fd = syscall(SYS_signalfd, -1, &s, 8);
  ASSERT_THAT(fd, SyscallSucceeds());
  close(fd);
}

TEST_F(SignalfdTest, FlagsAndKillStopInMaskAreIgnored) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1, SIGKILL, SIGSTOP}, SFD_NONBLOCK | SFD_CLOEXEC);
  EXPECT_TRUE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  FileDescriptor plain = MakeSignalfd({SIGUSR1}, 0);
  EXPECT_FALSE(fcntl(plain.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_THAT(fcntl(plain.get(), F_GETFD), SyscallSucceedsWithValue(0));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & S_IFMT, 0u);
  char link[64] = {};
  std::string self = "/proc/self/fd/" + std::to_string(fd.get());
  ASSERT_THAT(readlink(self.c_str(), link, sizeof(link) - 1), SyscallSucceeds());
  EXPECT_STREQ(link, "anon_inode:[signalfd]");
}

TEST_F(SignalfdTest, PollAndEpollReadiness) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1}, SFD_NONBLOCK);
  struct pollfd p = {fd.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  int ep_raw = epoll_create1(0);
  ASSERT_THAT(ep_raw, SyscallSucceeds());
  FileDescriptor ep(ep_raw);
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u32 = 9;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev), SyscallSucceeds());
  struct epoll_event out;
  EXPECT_THAT(epoll_wait(ep.get(), &out, 1, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
  ASSERT_THAT(epoll_wait(ep.get(), &out, 1, 10000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(out.data.u32, 9u);
  struct signalfd_siginfo si {};
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
}

TEST_F(SignalfdTest, BlockingReadWokenByAnotherThread) {
  FileDescriptor fd = MakeSignalfd({SIGUSR2}, 0);
  pid_t pid = getpid();
  std::thread sender([pid] {
    usleep(30 * 1000);
    kill(pid, SIGUSR2);
  });
  struct signalfd_siginfo si {};
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, uint32_t(SIGUSR2));
  sender.join();
}

TEST_F(SignalfdTest, PollWokenByAnotherThread) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1}, SFD_NONBLOCK);
  pid_t pid = getpid();
  std::thread sender([pid] {
    usleep(30 * 1000);
    kill(pid, SIGUSR1);
  });
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 10000), SyscallSucceedsWithValue(1));
  sender.join();
}

TEST_F(SignalfdTest, ForkedChildReadsItsOwnSignals) {
  FileDescriptor fd = MakeSignalfd({SIGUSR1, SIGUSR2}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  // The child does not inherit the parent's pending signals (fork(2)),
  // so through the inherited fd it sees only its own.
  int status = RunInChild([&] {
    struct signalfd_siginfo si {};
    CHILD_CHECK(read(fd.get(), &si, sizeof(si)) == -1 && errno == EAGAIN);
    CHILD_CHECK(kill(getpid(), SIGUSR2) == 0);
    CHILD_CHECK(read(fd.get(), &si, sizeof(si)) == sizeof(si));
    CHILD_CHECK(si.ssi_signo == SIGUSR2);
    CHILD_CHECK(si.ssi_pid == uint32_t(getpid()));
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  struct signalfd_siginfo si {};
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, uint32_t(SIGUSR1));
}

TEST_F(SignalfdTest, ChildExitSigchldCarriesStatus) {
  ScopedSignalMask block_chld(SIG_BLOCK, {SIGCHLD});
  FileDescriptor fd = MakeSignalfd({SIGCHLD}, 0);
  pid_t child = ForkChild([] { return 7; });
  ASSERT_GT(child, 0);
  struct signalfd_siginfo si {};
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, uint32_t(SIGCHLD));
  EXPECT_EQ(si.ssi_code, CLD_EXITED);
  EXPECT_EQ(si.ssi_pid, uint32_t(child));
  EXPECT_EQ(si.ssi_status, 7);
  EXPECT_TRUE(ExitedWith(WaitForStatus(child), 7));
  Drain(SIGCHLD);
}

TEST_F(SignalfdTest, UnblockedSignalGoesToItsHandlerInstead) {
  static volatile sig_atomic_t handled = 0;
  handled = 0;
  ScopedSigaction act(SIGUSR1, [](int) { handled = 1; });
  FileDescriptor fd = MakeSignalfd({SIGUSR1}, SFD_NONBLOCK);
  {
    ScopedSignalMask unblock(SIG_UNBLOCK, {SIGUSR1});
    ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  }
  EXPECT_EQ(handled, 1);
  struct signalfd_siginfo si {};
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallFailsWithErrno(EAGAIN));
}

}  // namespace
}  // namespace palisade::testing
