// socketpair(2) and the unix(7) behaviour of connected pairs: argument
// errors, SOCK_NONBLOCK/SOCK_CLOEXEC, fstat and /proc/self/fd, EOF,
// EPIPE/SIGPIPE and MSG_NOSIGNAL, shutdown(2), message boundaries per
// type, and blocking reads that a signal interrupts or restarts.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;

struct Pair {
  FileDescriptor a, b;
};

Pair MakePair(int type) {
  int sv[2] = {-1, -1};
  EXPECT_THAT(socketpair(AF_UNIX, type, 0, sv), SyscallSucceeds());
  return {FileDescriptor(sv[0]), FileDescriptor(sv[1])};
}

TEST(SocketpairTest, StreamCarriesBytesBothWays) {
  Pair p = MakePair(SOCK_STREAM);
  EXPECT_THAT(write(p.a.get(), "ping", 4), SyscallSucceedsWithValue(4));
  char buf[8] = {};
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_STREQ(buf, "ping");
  EXPECT_THAT(send(p.b.get(), "pong", 4, 0), SyscallSucceedsWithValue(4));
  memset(buf, 0, sizeof(buf));
  EXPECT_THAT(recv(p.a.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(4));
  EXPECT_STREQ(buf, "pong");
}

TEST(SocketpairTest, StreamHasNoMessageBoundaries) {
  Pair p = MakePair(SOCK_STREAM);
  ASSERT_THAT(write(p.a.get(), "abc", 3), SyscallSucceeds());
  ASSERT_THAT(write(p.a.get(), "def", 3), SyscallSucceeds());
  char buf[16] = {};
  EXPECT_THAT(read(p.b.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(p.b.get(), buf + 4, sizeof(buf) - 4), SyscallSucceedsWithValue(2));
  EXPECT_STREQ(buf, "abcdef");
}

TEST(SocketpairTest, DgramAndSeqpacketKeepBoundaries) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    Pair p = MakePair(type);
    ASSERT_THAT(write(p.a.get(), "abc", 3), SyscallSucceeds());
    ASSERT_THAT(write(p.a.get(), "defgh", 5), SyscallSucceeds());
    char buf[16] = {};
    EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
    EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  }
}

TEST(SocketpairTest, DgramTruncationDiscardsTheRest) {
  Pair p = MakePair(SOCK_DGRAM);
  ASSERT_THAT(write(p.a.get(), "0123456789", 10), SyscallSucceeds());
  ASSERT_THAT(write(p.a.get(), "xy", 2), SyscallSucceeds());
  char buf[4];
  EXPECT_THAT(recv(p.b.get(), buf, 4, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "0123");
  EXPECT_THAT(recv(p.b.get(), buf, 4, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "xy");
}

TEST(SocketpairTest, BadArguments) {
  int sv[2];
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM | 0x10000, 0, sv), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_RDM, 0, sv), SyscallFailsWithErrno(ESOCKTNOSUPPORT));
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 1234, sv), SyscallFailsWithErrno(EPROTONOSUPPORT));
  EXPECT_THAT(socketpair(-1, SOCK_STREAM, 0, sv), SyscallFailsWithErrno(EAFNOSUPPORT));
  EXPECT_THAT(socketpair(AF_MAX + 5, SOCK_STREAM, 0, sv), SyscallFailsWithErrno(EAFNOSUPPORT));
  // Linux has no AF_INET pairs (EOPNOTSUPP); the sandbox no AF_INET at all.
  EXPECT_THAT(socketpair(AF_INET, SOCK_STREAM, 0, sv), SyscallFailsWithErrno(AnyOf(EOPNOTSUPP, EAFNOSUPPORT)));
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, reinterpret_cast<int*>(8)), SyscallFailsWithErrno(EFAULT));
}

TEST(SocketpairTest, BadSvPointerLeaksNoDescriptor) {
  int before = dup(0);
  ASSERT_THAT(before, SyscallSucceeds());
  close(before);
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, reinterpret_cast<int*>(8)), SyscallFailsWithErrno(EFAULT));
  int after = dup(0);
  EXPECT_EQ(after, before);
  close(after);
}

TEST(SocketpairTest, NonblockAndCloexecFlags) {
  Pair p = MakePair(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
  EXPECT_TRUE(fcntl(p.a.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(p.b.get(), F_GETFD) & FD_CLOEXEC);
  char c;
  EXPECT_THAT(read(p.a.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  Pair q = MakePair(SOCK_STREAM);
  EXPECT_FALSE(fcntl(q.a.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_FALSE(fcntl(q.a.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_THAT(recv(q.a.get(), &c, 1, MSG_DONTWAIT), SyscallFailsWithErrno(EAGAIN));
}

TEST(SocketpairTest, FstatShowsASocketAndProcShowsItsInode) {
  Pair p = MakePair(SOCK_STREAM);
  struct stat st {};
  ASSERT_THAT(fstat(p.a.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  struct stat st2 {};
  ASSERT_THAT(fstat(p.b.get(), &st2), SyscallSucceeds());
  EXPECT_NE(st.st_ino, st2.st_ino);
  char link[64] = {};
  std::string path = "/proc/self/fd/" + std::to_string(p.a.get());
  ASSERT_THAT(readlink(path.c_str(), link, sizeof(link) - 1), SyscallSucceeds());
  EXPECT_EQ(std::string(link), "socket:[" + std::to_string(st.st_ino) + "]");
}

TEST(SocketpairTest, NamesAreUnnamed) {
  Pair p = MakePair(SOCK_STREAM);
  struct sockaddr_un sa {};
  socklen_t len = sizeof(sa);
  ASSERT_THAT(getsockname(p.a.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(sa_family_t));
  EXPECT_EQ(sa.sun_family, AF_UNIX);
  len = sizeof(sa);
  ASSERT_THAT(getpeername(p.a.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(sa_family_t));
}

TEST(SocketpairTest, ReadAfterPeerCloseIsEof) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    Pair p = MakePair(type);
    ASSERT_THAT(write(p.a.get(), "x", 1), SyscallSucceeds());
    p.a.reset();
    char c;
    EXPECT_THAT(read(p.b.get(), &c, 1), SyscallSucceedsWithValue(1));
    EXPECT_THAT(read(p.b.get(), &c, 1), SyscallSucceedsWithValue(0));
  }
}

TEST(SocketpairTest, UnreadDataAtCloseIsAReset) {
  Pair p = MakePair(SOCK_STREAM);
  ASSERT_THAT(write(p.a.get(), "lost", 4), SyscallSucceeds());
  p.b.reset();  // closes with "lost" unread
  char c;
  EXPECT_THAT(read(p.a.get(), &c, 1), SyscallFailsWithErrno(ECONNRESET));
  EXPECT_THAT(read(p.a.get(), &c, 1), SyscallSucceedsWithValue(0));
}

std::atomic<int> sigpipes{0};
void CountSigpipe(int) { sigpipes++; }

TEST(SocketpairTest, WriteToClosedPeerIsEpipeAndSigpipe) {
  ScopedSigaction act(SIGPIPE, CountSigpipe);
  Pair p = MakePair(SOCK_STREAM);
  p.b.reset();
  sigpipes = 0;
  EXPECT_THAT(write(p.a.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  EXPECT_EQ(sigpipes.load(), 1);
  EXPECT_THAT(send(p.a.get(), "x", 1, 0), SyscallFailsWithErrno(EPIPE));
  EXPECT_EQ(sigpipes.load(), 2);
  EXPECT_THAT(send(p.a.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
  EXPECT_EQ(sigpipes.load(), 2);
}

TEST(SocketpairTest, ShutdownWriteGivesPeerEofAndUsEpipe) {
  ScopedSigaction ign(SIGPIPE, SIG_IGN);
  Pair p = MakePair(SOCK_STREAM);
  ASSERT_THAT(write(p.a.get(), "last", 4), SyscallSucceeds());
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(p.a.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  // The other direction still works.
  EXPECT_THAT(write(p.b.get(), "back", 4), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(p.a.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
}

TEST(SocketpairTest, ShutdownReadMakesPeerWritesFail) {
  ScopedSigaction ign(SIGPIPE, SIG_IGN);
  Pair p = MakePair(SOCK_STREAM);
  ASSERT_THAT(shutdown(p.b.get(), SHUT_RD), SyscallSucceeds());
  EXPECT_THAT(write(p.a.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  char c;
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(SocketpairTest, ShutdownErrors) {
  Pair p = MakePair(SOCK_STREAM);
  EXPECT_THAT(shutdown(p.a.get(), 3), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shutdown(p.a.get(), -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shutdown(-1, SHUT_RD), SyscallFailsWithErrno(EBADF));
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(shutdown(fds[0], SHUT_RD), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(send(fds[1], "x", 1, 0), SyscallFailsWithErrno(ENOTSOCK));
  close(fds[0]);
  close(fds[1]);
}

TEST(SocketpairTest, LargeStreamWriteIsDeliveredWhole) {
  Pair p = MakePair(SOCK_STREAM);
  const size_t kSize = 1 << 20;  // several times the socket buffer
  std::string out(kSize, 'q');
  for (size_t i = 0; i < kSize; i++) out[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] { EXPECT_THAT(write(p.a.get(), out.data(), out.size()), SyscallSucceedsWithValue(kSize)); });
  std::string in;
  char buf[8192];
  while (in.size() < kSize) {
    ssize_t n = read(p.b.get(), buf, sizeof(buf));
    ASSERT_GT(n, 0);
    in.append(buf, n);
  }
  writer.join();
  EXPECT_TRUE(in == out);
}

TEST(SocketpairTest, NonblockingWriteFillsThenEagain) {
  Pair p = MakePair(SOCK_STREAM | SOCK_NONBLOCK);
  char buf[4096] = {};
  ssize_t total = 0;
  for (int i = 0; i < 100000; i++) {
    ssize_t n = write(p.a.get(), buf, sizeof(buf));
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN);
      break;
    }
    total += n;
  }
  EXPECT_GT(total, 0);
  struct pollfd pfd = {p.a.get(), POLLOUT, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(0));
  while (total > 0) {
    ssize_t n = read(p.b.get(), buf, sizeof(buf));
    ASSERT_GT(n, 0);
    total -= n;
  }
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pfd.revents & POLLOUT);
}

std::atomic<int> usr1_count{0};
void CountUsr1(int) { usr1_count++; }

TEST(SocketpairTest, BlockedReadIsInterruptedBySignal) {
  ScopedSigaction act(SIGUSR1, CountUsr1, 0);  // no SA_RESTART
  Pair p = MakePair(SOCK_STREAM);
  pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  std::thread killer([&] {
    while (!done) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  char c;
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallFailsWithErrno(EINTR));
  done = true;
  killer.join();
  EXPECT_GE(usr1_count.load(), 1);
}

TEST(SocketpairTest, BlockedRecvRestartsUnderSaRestart) {
  ScopedSigaction act(SIGUSR1, CountUsr1, SA_RESTART);
  Pair p = MakePair(SOCK_STREAM);
  pthread_t self = pthread_self();
  usr1_count = 0;
  std::thread helper([&] {
    while (usr1_count == 0) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_THAT(write(p.a.get(), "z", 1), SyscallSucceeds());
  });
  char c = 0;
  EXPECT_THAT(recv(p.b.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'z');
  helper.join();
}

TEST(SocketpairTest, RawIsTreatedAsDatagram) {
  Pair p = MakePair(SOCK_RAW);
  int type = 0;
  socklen_t len = sizeof(type);
  ASSERT_THAT(getsockopt(p.a.get(), SOL_SOCKET, SO_TYPE, &type, &len), SyscallSucceeds());
  EXPECT_EQ(type, SOCK_DGRAM);
}

}  // namespace
}  // namespace palisade::testing
