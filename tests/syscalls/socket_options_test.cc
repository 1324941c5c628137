// getsockopt(2)/setsockopt(2) at SOL_SOCKET on unix sockets (socket(7)):
// SO_TYPE/SO_DOMAIN/SO_PROTOCOL, SO_ERROR, SO_PEERCRED, SO_PASSCRED,
// SO_SNDBUF/SO_RCVBUF doubling and minimums, SO_REUSEADDR, timeouts, the
// optlen rules, ENOPROTOOPT/EOPNOTSUPP/ENOTSOCK, and FIONREAD.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

int GetInt(int fd, int name) {
  int v = -12345;
  socklen_t len = sizeof(v);
  EXPECT_THAT(getsockopt(fd, SOL_SOCKET, name, &v, &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(v));
  return v;
}

void SetInt(int fd, int name, int v) {
  EXPECT_THAT(setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v)), SyscallSucceeds());
}

TEST(SocketOptionsTest, TypeDomainProtocol) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    FileDescriptor s(socket(AF_UNIX, type, 0));
    EXPECT_EQ(GetInt(s.get(), SO_TYPE), type);
    EXPECT_EQ(GetInt(s.get(), SO_DOMAIN), AF_UNIX);
    EXPECT_EQ(GetInt(s.get(), SO_PROTOCOL), 0);
    EXPECT_EQ(GetInt(s.get(), SO_ERROR), 0);
    EXPECT_EQ(GetInt(s.get(), SO_ACCEPTCONN), 0);
    int v = SOCK_DGRAM;
    EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, sizeof(v)), SyscallFailsWithErrno(ENOPROTOOPT));
  }
}

TEST(SocketOptionsTest, AcceptconnOnListener) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  struct sockaddr_un sa {};
  sa.sun_family = AF_UNIX;
  ASSERT_THAT(bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa_family_t)), SyscallSucceeds());
  ASSERT_THAT(listen(s.get(), 1), SyscallSucceeds());
  EXPECT_EQ(GetInt(s.get(), SO_ACCEPTCONN), 1);
}

TEST(SocketOptionsTest, Passcred) {
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_EQ(GetInt(s.get(), SO_PASSCRED), 0);
  SetInt(s.get(), SO_PASSCRED, 1);
  EXPECT_EQ(GetInt(s.get(), SO_PASSCRED), 1);
  SetInt(s.get(), SO_PASSCRED, 0);
  EXPECT_EQ(GetInt(s.get(), SO_PASSCRED), 0);
}

TEST(SocketOptionsTest, BufferSizesAreDoubled) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_GT(GetInt(s.get(), SO_SNDBUF), 0);
  SetInt(s.get(), SO_SNDBUF, 65536);
  EXPECT_EQ(GetInt(s.get(), SO_SNDBUF), 131072);
  SetInt(s.get(), SO_RCVBUF, 65536);
  EXPECT_EQ(GetInt(s.get(), SO_RCVBUF), 131072);
  // Tiny values are raised to the minimums (SOCK_MIN_SNDBUF/RCVBUF).
  SetInt(s.get(), SO_SNDBUF, 1);
  EXPECT_EQ(GetInt(s.get(), SO_SNDBUF), 4608);
  SetInt(s.get(), SO_RCVBUF, 1);
  EXPECT_EQ(GetInt(s.get(), SO_RCVBUF), 2304);
}

TEST(SocketOptionsTest, FlagsAreStored) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  for (int name : {SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST, SO_OOBINLINE}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(GetInt(s.get(), name), 0);
    SetInt(s.get(), name, 7);
    EXPECT_EQ(GetInt(s.get(), name), 1);
  }
}

TEST(SocketOptionsTest, Linger) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  struct linger lg = {1, 5};
  ASSERT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), SyscallSucceeds());
  struct linger out {};
  socklen_t len = sizeof(out);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_LINGER, &out, &len), SyscallSucceeds());
  EXPECT_EQ(out.l_onoff, 1);
  EXPECT_EQ(out.l_linger, 5);
}

TEST(SocketOptionsTest, Timeouts) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  struct timeval tv = {2, 500000};
  ASSERT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), SyscallSucceeds());
  struct timeval out {};
  socklen_t len = sizeof(out);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &out, &len), SyscallSucceeds());
  EXPECT_EQ(out.tv_sec, 2);
  EXPECT_EQ(out.tv_usec, 500000);
  len = sizeof(out);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &out, &len), SyscallSucceeds());
  EXPECT_EQ(out.tv_sec, 0);
  EXPECT_EQ(out.tv_usec, 0);
  tv = {0, 1000000};
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), SyscallFailsWithErrno(EDOM));
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, 4), SyscallFailsWithErrno(EINVAL));
}

TEST(SocketOptionsTest, PeercredOfPairAndOfLoneSocket) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  struct ucred cr {};
  socklen_t len = sizeof(cr);
  ASSERT_THAT(getsockopt(a.get(), SOL_SOCKET, SO_PEERCRED, &cr, &len), SyscallSucceeds());
  EXPECT_EQ(cr.pid, getpid());
  EXPECT_EQ(cr.uid, geteuid());
  EXPECT_EQ(cr.gid, getegid());
  FileDescriptor lone(socket(AF_UNIX, SOCK_STREAM, 0));
  len = sizeof(cr);
  ASSERT_THAT(getsockopt(lone.get(), SOL_SOCKET, SO_PEERCRED, &cr, &len), SyscallSucceeds());
  EXPECT_EQ(cr.pid, 0);
  EXPECT_EQ(cr.uid, static_cast<uid_t>(-1));
  EXPECT_EQ(cr.gid, static_cast<gid_t>(-1));
}

TEST(SocketOptionsTest, OptlenRules) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  int v = 0;
  socklen_t len = static_cast<socklen_t>(-1);
  EXPECT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, &len), SyscallFailsWithErrno(EINVAL));
  // A larger buffer gets the int and the real length.
  char big[16];
  memset(big, 0x55, sizeof(big));
  len = sizeof(big);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, big, &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(int));
  EXPECT_EQ(big[4], 0x55);
  // setsockopt of an int option needs a whole int.
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &v, 2), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, nullptr), SyscallFailsWithErrno(EFAULT));
}

TEST(SocketOptionsTest, UnknownOptionsAndLevels) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  int v = 1;
  socklen_t len = sizeof(v);
  EXPECT_THAT(getsockopt(s.get(), SOL_SOCKET, 9999, &v, &len), SyscallFailsWithErrno(ENOPROTOOPT));
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, 9999, &v, sizeof(v)), SyscallFailsWithErrno(ENOPROTOOPT));
  EXPECT_THAT(getsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &v, &len), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), SyscallFailsWithErrno(EOPNOTSUPP));
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &v, &len), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(setsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), SyscallFailsWithErrno(ENOTSOCK));
  close(fds[0]);
  close(fds[1]);
  EXPECT_THAT(getsockopt(-1, SOL_SOCKET, SO_TYPE, &v, &len), SyscallFailsWithErrno(EBADF));
}

TEST(SocketOptionsTest, SoErrorReportsAndClearsAReset) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  ASSERT_THAT(write(a.get(), "x", 1), SyscallSucceeds());
  b.reset();  // unread data: a reset for a
  EXPECT_EQ(GetInt(a.get(), SO_ERROR), ECONNRESET);
  EXPECT_EQ(GetInt(a.get(), SO_ERROR), 0);
}

TEST(SocketOptionsTest, Fionread) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    int sv[2];
    ASSERT_THAT(socketpair(AF_UNIX, type, 0, sv), SyscallSucceeds());
    FileDescriptor a(sv[0]), b(sv[1]);
    ASSERT_THAT(write(a.get(), "abc", 3), SyscallSucceeds());
    ASSERT_THAT(write(a.get(), "de", 2), SyscallSucceeds());
    int n = -1;
    ASSERT_THAT(ioctl(b.get(), FIONREAD, &n), SyscallSucceeds());
    // A stream counts every byte; a datagram socket the next datagram.
    EXPECT_EQ(n, type == SOCK_STREAM ? 5 : 3);
  }
}

}  // namespace
}  // namespace palisade::testing
