// unix(7) SOCK_DGRAM sockets: sendto/recvfrom between named sockets, the
// sender's address, connect(2) as a default destination (and AF_UNSPEC to
// drop it), EPERM for a receiver connected elsewhere, truncation
// (MSG_TRUNC), EMSGSIZE, timeouts, and sendmmsg/recvmmsg.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

struct Addr {
  struct sockaddr_un sa {};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&sa); }
};

Addr AbstractAddr(const std::string& tag) {
  std::string name = "palisade-dgram-" + std::to_string(getpid()) + "-" + tag;
  Addr a;
  a.sa.sun_family = AF_UNIX;
  memcpy(a.sa.sun_path + 1, name.data(), name.size());
  a.len = offsetof(struct sockaddr_un, sun_path) + 1 + name.size();
  return a;
}

Addr PathAddr(const std::string& path) {
  Addr a;
  a.sa.sun_family = AF_UNIX;
  strncpy(a.sa.sun_path, path.c_str(), sizeof(a.sa.sun_path) - 1);
  a.len = offsetof(struct sockaddr_un, sun_path) + path.size() + 1;
  return a;
}

FileDescriptor Bound(const Addr& a) {
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_TRUE(s.valid());
  EXPECT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  return s;
}

TEST(UnixDgramTest, SendtoRecvfromReportsSender) {
  Addr ra = AbstractAddr("r"), sa = AbstractAddr("s");
  FileDescriptor r = Bound(ra), s = Bound(sa);
  ASSERT_THAT(sendto(s.get(), "hi", 2, 0, ra.get(), ra.len), SyscallSucceedsWithValue(2));
  char buf[8];
  struct sockaddr_un from {};
  socklen_t flen = sizeof(from);
  ASSERT_THAT(recvfrom(r.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(flen, sa.len);
  EXPECT_EQ(memcmp(&from, &sa.sa, sa.len), 0);
}

TEST(UnixDgramTest, UnnamedSenderHasEmptyAddress) {
  Addr ra = AbstractAddr("unnamed");
  FileDescriptor r = Bound(ra);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(sendto(s.get(), "x", 1, 0, ra.get(), ra.len), SyscallSucceeds());
  char buf[4];
  struct sockaddr_un from {};
  socklen_t flen = sizeof(from);
  ASSERT_THAT(recvfrom(r.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(flen, 0u);
}

TEST(UnixDgramTest, PathnameDestination) {
  TempDir dir;
  Addr ra = PathAddr(dir.Join("d"));
  FileDescriptor r = Bound(ra);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(sendto(s.get(), "p", 1, 0, ra.get(), ra.len), SyscallSucceedsWithValue(1));
  char c;
  EXPECT_THAT(recv(r.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  Addr missing = PathAddr(dir.Join("missing"));
  EXPECT_THAT(sendto(s.get(), "p", 1, 0, missing.get(), missing.len), SyscallFailsWithErrno(ENOENT));
  Addr unbound = AbstractAddr("nobody");
  EXPECT_THAT(sendto(s.get(), "p", 1, 0, unbound.get(), unbound.len), SyscallFailsWithErrno(ECONNREFUSED));
  r.reset();  // node stays, socket gone
  EXPECT_THAT(sendto(s.get(), "p", 1, 0, ra.get(), ra.len), SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixDgramTest, ConnectSetsDefaultDestination) {
  Addr ra = AbstractAddr("conn");
  FileDescriptor r = Bound(ra);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
  ASSERT_THAT(connect(s.get(), ra.get(), ra.len), SyscallSucceeds());
  EXPECT_THAT(send(s.get(), "abc", 3, 0), SyscallSucceedsWithValue(3));
  struct sockaddr_un peer {};
  socklen_t plen = sizeof(peer);
  ASSERT_THAT(getpeername(s.get(), reinterpret_cast<sockaddr*>(&peer), &plen), SyscallSucceeds());
  EXPECT_EQ(plen, ra.len);
  char buf[4];
  EXPECT_THAT(recv(r.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(3));
  struct sockaddr unspec {};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_THAT(connect(s.get(), &unspec, sizeof(unspec)), SyscallSucceeds());
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixDgramTest, ReceiverConnectedElsewhereRefusesOthers) {
  Addr ra = AbstractAddr("picky"), oa = AbstractAddr("other");
  FileDescriptor r = Bound(ra), o = Bound(oa);
  ASSERT_THAT(connect(r.get(), oa.get(), oa.len), SyscallSucceeds());
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, ra.get(), ra.len), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(connect(s.get(), ra.get(), ra.len), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(sendto(o.get(), "x", 1, 0, ra.get(), ra.len), SyscallSucceeds());
}

TEST(UnixDgramTest, TruncationFlags) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  ASSERT_THAT(send(a.get(), "0123456789", 10, 0), SyscallSucceeds());
  ASSERT_THAT(send(a.get(), "0123456789", 10, 0), SyscallSucceeds());
  char buf[4];
  struct iovec iov = {buf, sizeof(buf)};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  EXPECT_THAT(recvmsg(b.get(), &m, 0), SyscallSucceedsWithValue(4));
  EXPECT_TRUE(m.msg_flags & MSG_TRUNC);
  // MSG_TRUNC asks for the real length.
  EXPECT_THAT(recv(b.get(), buf, sizeof(buf), MSG_TRUNC), SyscallSucceedsWithValue(10));
  ASSERT_THAT(send(a.get(), "ab", 2, 0), SyscallSucceeds());
  m.msg_flags = 0;
  EXPECT_THAT(recvmsg(b.get(), &m, 0), SyscallSucceedsWithValue(2));
  EXPECT_FALSE(m.msg_flags & MSG_TRUNC);
}

TEST(UnixDgramTest, ZeroLengthDatagram) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  EXPECT_THAT(send(a.get(), "", 0, 0), SyscallSucceedsWithValue(0));
  char c;
  EXPECT_THAT(recv(b.get(), &c, 1, MSG_DONTWAIT), SyscallSucceedsWithValue(0));
  EXPECT_THAT(recv(b.get(), &c, 1, MSG_DONTWAIT), SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, TooLargeIsEmsgsize) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  int sndbuf = 0;
  socklen_t len = sizeof(sndbuf);
  ASSERT_THAT(getsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), SyscallSucceeds());
  std::vector<char> big(sndbuf + 1);
  EXPECT_THAT(send(a.get(), big.data(), big.size(), 0), SyscallFailsWithErrno(EMSGSIZE));
  // The size is checked before the destination (Linux 6.x order).
  FileDescriptor lone(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(send(lone.get(), big.data(), big.size(), 0), SyscallFailsWithErrno(EMSGSIZE));
  EXPECT_THAT(send(lone.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixDgramTest, ReceiveTimeout) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  struct timeval tv = {0, 50000};
  ASSERT_THAT(setsockopt(b.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), SyscallSucceeds());
  char c;
  EXPECT_THAT(recv(b.get(), &c, 1, 0), SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, FullReceiverIsEagainWhenNonblocking) {
  Addr ra = AbstractAddr("full");
  FileDescriptor r = Bound(ra);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  int sent = 0;
  for (; sent < 100000; sent++) {
    if (sendto(s.get(), "x", 1, 0, ra.get(), ra.len) < 0) {
      EXPECT_EQ(errno, EAGAIN);
      break;
    }
  }
  EXPECT_GT(sent, 0);
  EXPECT_LT(sent, 100000);
  char c;
  ASSERT_THAT(recv(r.get(), &c, 1, 0), SyscallSucceeds());
}

TEST(UnixDgramTest, SendToClosedPeerIsRefused) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  b.reset();
  EXPECT_THAT(send(a.get(), "x", 1, 0), SyscallFailsWithErrno(ECONNREFUSED));
  EXPECT_THAT(send(a.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixDgramTest, ShutdownReadRefusesSenders) {
  ScopedSigaction ign(SIGPIPE, SIG_IGN);
  Addr ra = AbstractAddr("shut");
  FileDescriptor r = Bound(ra);
  ASSERT_THAT(shutdown(r.get(), SHUT_RD), SyscallSucceeds());
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, ra.get(), ra.len), SyscallFailsWithErrno(EPIPE));
  char c;
  EXPECT_THAT(recv(r.get(), &c, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(UnixDgramTest, SendmmsgAndRecvmmsg) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  const char* words[3] = {"one", "three", "fivee"};
  struct iovec out_iov[3];
  struct mmsghdr out[3] = {};
  for (int i = 0; i < 3; i++) {
    out_iov[i] = {const_cast<char*>(words[i]), strlen(words[i])};
    out[i].msg_hdr.msg_iov = &out_iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  ASSERT_THAT(sendmmsg(a.get(), out, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(out[1].msg_len, 5u);
  char bufs[4][16] = {};
  struct iovec in_iov[4];
  struct mmsghdr in[4] = {};
  for (int i = 0; i < 4; i++) {
    in_iov[i] = {bufs[i], sizeof(bufs[i])};
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  // MSG_WAITFORONE: after the first datagram, do not wait for more.
  ASSERT_THAT(recvmmsg(b.get(), in, 4, MSG_WAITFORONE, nullptr), SyscallSucceedsWithValue(3));
  EXPECT_EQ(in[0].msg_len, 3u);
  EXPECT_STREQ(bufs[2], "fivee");
  EXPECT_THAT(recvmmsg(b.get(), in, 4, MSG_DONTWAIT, nullptr), SyscallFailsWithErrno(EAGAIN));
}

}  // namespace
}  // namespace palisade::testing
