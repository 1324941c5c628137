// The host stdio passthrough (sentry/fsimpl/dev/host_stdio.h): transfers
// never block and never change the host file's flags, the offset and
// O_APPEND are shared with the caller, EPIPE brings SIGPIPE, readiness
// comes from the host, and tty ioctls reach the host terminal.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "sentry/fsimpl/dev/host_stdio.h"
#include "tests/unit/fsimpl/io_test_util.h"

namespace palisade::testing {
namespace {

class HostStdioTest : public IoTest {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // as the sentry must
    ASSERT_EQ(pipe(p_), 0);
  }
  void TearDown() override {
    close(p_[0]);
    close(p_[1]);
  }
  int p_[2];
};

TEST_F(HostStdioTest, PipeReadNeverBlocksAndLeavesHostFlags) {
  int before = fcntl(p_[0], F_GETFL);
  FileRef f = dev::NewHostStdioFile(p_[0], before);
  ASSERT_NE(f, nullptr);
  std::vector<uint8_t> buf(16);
  EXPECT_EQ(f->Read(t(), buf).error(), Errno(EAGAIN));
  EXPECT_FALSE(f->nonblocking());  // the syscall layer will sleep
  EXPECT_EQ(fcntl(p_[0], F_GETFL), before);
  ASSERT_EQ(write(p_[1], "abc", 3), 3);
  EXPECT_EQ(f->Readiness(POLLIN | POLLOUT), uint32_t(POLLIN));
  EXPECT_EQ(*f->Read(t(), buf), 3);
  EXPECT_EQ(memcmp(buf.data(), "abc", 3), 0);
  EXPECT_EQ(f->HostFdForPoll() >= 0, true);
  EXPECT_NE(f->HostFdForPoll(), p_[0]);  // a dup of its own
  int n = -1;
  ASSERT_EQ(write(p_[1], "xy", 2), 2);
  ASSERT_TRUE(f->Ioctl(t(), FIONREAD, Addr(&n)).ok());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(f->Ioctl(t(), TCGETS, Addr(&n)).error(), Errno(ENOTTY));
  close(p_[1]);
  p_[1] = open("/dev/null", O_RDONLY);  // keep TearDown simple
  EXPECT_EQ(*f->Read(t(), buf), 2);
  EXPECT_EQ(*f->Read(t(), buf), 0);  // EOF
  auto st = f->Stat(t());
  EXPECT_TRUE(S_ISFIFO(st->st_mode));
}

TEST_F(HostStdioTest, PipeWriteAndEpipe) {
  FileRef f = dev::NewHostStdioFile(p_[1], O_WRONLY);
  ASSERT_NE(f, nullptr);
  std::vector<uint8_t> msg = {'o', 'k'};
  EXPECT_EQ(*f->Write(t(), msg), 2);
  char buf[4];
  EXPECT_EQ(read(p_[0], buf, 4), 2);
  std::vector<uint8_t> fill(1 << 20);
  auto r = f->Write(t(), fill);
  ASSERT_TRUE(r.ok());  // partial: what the host pipe took
  EXPECT_LT(*r, int64_t(fill.size()));
  EXPECT_EQ(f->Write(t(), fill).error(), Errno(EAGAIN));
  EXPECT_EQ(f->Readiness(POLLOUT), 0u);
  close(p_[0]);
  p_[0] = open("/dev/null", O_RDONLY);
  EXPECT_EQ(f->Write(t(), msg).error(), Errno(EPIPE));
  EXPECT_TRUE(SignalPending(SIGPIPE));
  EXPECT_EQ(f->Readiness(POLLOUT | POLLERR) & POLLERR, uint32_t(POLLERR));
}

TEST_F(HostStdioTest, AccessModeIsEnforced) {
  FileRef f = dev::NewHostStdioFile(p_[0], O_RDONLY);
  std::vector<uint8_t> b(1);
  EXPECT_EQ(f->Write(t(), b).error(), Errno(EBADF));
  FileRef w = dev::NewHostStdioFile(p_[1], O_WRONLY);
  EXPECT_EQ(w->Read(t(), b).error(), Errno(EBADF));
  EXPECT_EQ(dev::NewHostStdioFile(-1, O_RDONLY), nullptr);
}

TEST_F(HostStdioTest, RegularFileSharesOffsetAndAppend) {
  char path[] = "/tmp/host_stdio_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  struct stat before;
  fstat(fd, &before);
  FileRef f = dev::NewHostStdioFile(fd, O_RDWR);
  std::vector<uint8_t> a = {'1', '2', '3'};
  EXPECT_EQ(*f->Write(t(), a), 3);
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 3);  // the caller's offset moved too
  EXPECT_EQ(f->HostFdForPoll(), -1);      // never blocks
  EXPECT_EQ(f->Readiness(POLLIN | POLLOUT), uint32_t(POLLIN | POLLOUT));
  EXPECT_EQ(*f->Seek(t(), 0, SEEK_SET), 0);
  std::vector<uint8_t> buf(8);
  EXPECT_EQ(*f->Read(t(), buf), 3);
  EXPECT_EQ(*f->PRead(t(), buf, 1), 2);
  int n = -1;
  ASSERT_TRUE(f->Seek(t(), 1, SEEK_SET).ok());
  ASSERT_TRUE(f->Ioctl(t(), FIONREAD, Addr(&n)).ok());
  EXPECT_EQ(n, 2);
  // O_APPEND set by the caller applies to our writes.
  fcntl(fd, F_SETFL, O_APPEND);
  ASSERT_TRUE(f->Seek(t(), 0, SEEK_SET).ok());
  EXPECT_EQ(*f->Write(t(), a), 3);
  struct stat after;
  fstat(fd, &after);
  EXPECT_EQ(after.st_size, 6);
  EXPECT_EQ(after.st_mode, before.st_mode);  // owner and mode untouched
  EXPECT_EQ(after.st_uid, before.st_uid);
  auto st = f->Stat(t());
  EXPECT_TRUE(S_ISREG(st->st_mode));
  EXPECT_EQ(st->st_ino, before.st_ino);
  close(fd);
}

TEST_F(HostStdioTest, Socket) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  FileRef f = dev::NewHostStdioFile(sv[0], O_RDWR);
  std::vector<uint8_t> buf(8);
  EXPECT_EQ(f->Read(t(), buf).error(), Errno(EAGAIN));
  EXPECT_EQ(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
  std::vector<uint8_t> msg = {'s'};
  EXPECT_EQ(*f->Write(t(), msg), 1);
  EXPECT_EQ(read(sv[1], buf.data(), 8), 1);
  close(sv[1]);
  EXPECT_EQ(*f->Read(t(), buf), 0);
  EXPECT_EQ(f->Write(t(), msg).error(), Errno(EPIPE));
  EXPECT_TRUE(SignalPending(SIGPIPE));
  close(sv[0]);
}

class HostTtyTest : public IoTest {
 protected:
  void SetUp() override {
    if (openpty(&master_, &slave_, nullptr, nullptr, nullptr) != 0) GTEST_SKIP() << "no ptys here";
    f_ = dev::NewHostStdioFile(slave_, O_RDWR);
    ASSERT_NE(f_, nullptr);
  }
  void TearDown() override {
    if (master_ >= 0) close(master_);
    if (slave_ >= 0) close(slave_);
  }
  int master_ = -1, slave_ = -1;
  FileRef f_;
};

// The kernel's struct termios, as the app passes it to TCGETS.
struct KTermios {
  uint32_t iflag, oflag, cflag, lflag;
  uint8_t line, cc[19];
};

TEST_F(HostTtyTest, TermiosAndWinsize) {
  KTermios kt{};
  ASSERT_TRUE(f_->Ioctl(t(), TCGETS, Addr(&kt)).ok());
  EXPECT_TRUE(kt.lflag & ECHO);
  kt.lflag &= ~(ECHO | ICANON);
  ASSERT_TRUE(f_->Ioctl(t(), TCSETS, Addr(&kt)).ok());
  struct termios host;
  ASSERT_EQ(tcgetattr(slave_, &host), 0);
  EXPECT_FALSE(host.c_lflag & ECHO);  // it reached the host terminal
  EXPECT_EQ(f_->Ioctl(t(), TCGETS, kBadAddr).error(), Errno(EFAULT));

  struct winsize ws = {33, 99, 0, 0};
  ASSERT_TRUE(f_->Ioctl(t(), TIOCSWINSZ, Addr(&ws)).ok());
  struct winsize got {};
  ASSERT_TRUE(f_->Ioctl(t(), TIOCGWINSZ, Addr(&got)).ok());
  EXPECT_EQ(got.ws_row, 33);
  EXPECT_EQ(got.ws_col, 99);
}

TEST_F(HostTtyTest, ForegroundProcessGroupIsTheSandboxs) {
  int32_t pg = 0;
  ASSERT_TRUE(f_->Ioctl(t(), TIOCGPGRP, Addr(&pg)).ok());
  EXPECT_EQ(pg, 1);  // the container's init
  int32_t np = 7;
  ASSERT_TRUE(f_->Ioctl(t(), TIOCSPGRP, Addr(&np)).ok());
  // Another file on the same terminal sees it.
  FileRef other = dev::NewHostStdioFile(slave_, O_WRONLY);
  ASSERT_TRUE(other->Ioctl(t(), TIOCGPGRP, Addr(&pg)).ok());
  EXPECT_EQ(pg, 7);
  np = -1;
  EXPECT_EQ(f_->Ioctl(t(), TIOCSPGRP, Addr(&np)).error(), Errno(EINVAL));
  np = 1;
  ASSERT_TRUE(f_->Ioctl(t(), TIOCSPGRP, Addr(&np)).ok());
  EXPECT_EQ(f_->Ioctl(t(), 0x54ff, 0).error(), Errno(ENOTTY));
}

TEST_F(HostTtyTest, ReadWrite) {
  std::vector<uint8_t> buf(16);
  EXPECT_EQ(f_->Read(t(), buf).error(), Errno(EAGAIN));
  ASSERT_EQ(write(master_, "line\n", 5), 5);
  struct pollfd p = {f_->HostFdForPoll(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 1000), 1);
  EXPECT_EQ(f_->Readiness(POLLIN), uint32_t(POLLIN));
  EXPECT_EQ(*f_->Read(t(), buf), 5);
  std::vector<uint8_t> out = {'o', 'k'};
  EXPECT_EQ(*f_->Write(t(), out), 2);
  int n = 0;
  ASSERT_TRUE(f_->Ioctl(t(), TIOCOUTQ, Addr(&n)).ok());
  auto st = f_->Stat(t());
  EXPECT_TRUE(S_ISCHR(st->st_mode));
}

}  // namespace
}  // namespace palisade::testing
