// unix(7) SOCK_SEQPACKET: connection-oriented, record boundaries kept,
// truncated records (MSG_TRUNC), EOF when the peer goes, ENOTCONN before a
// connection, and destination addresses ignored once connected.
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

struct Conn {
  FileDescriptor listener, client, server;
  struct sockaddr_un addr {};
  socklen_t len = 0;
};

Conn Connect(const std::string& tag) {
  Conn c;
  std::string name = "palisade-seq-" + std::to_string(getpid()) + "-" + tag;
  c.addr.sun_family = AF_UNIX;
  memcpy(c.addr.sun_path + 1, name.data(), name.size());
  c.len = offsetof(struct sockaddr_un, sun_path) + 1 + name.size();
  c.listener.reset(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  EXPECT_THAT(bind(c.listener.get(), reinterpret_cast<sockaddr*>(&c.addr), c.len), SyscallSucceeds());
  EXPECT_THAT(listen(c.listener.get(), 4), SyscallSucceeds());
  c.client.reset(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  EXPECT_THAT(connect(c.client.get(), reinterpret_cast<sockaddr*>(&c.addr), c.len), SyscallSucceeds());
  c.server.reset(accept(c.listener.get(), nullptr, nullptr));
  EXPECT_TRUE(c.server.valid());
  return c;
}

TEST(UnixSeqpacketTest, RecordsKeepTheirBoundaries) {
  Conn c = Connect("bound");
  ASSERT_THAT(send(c.client.get(), "first", 5, 0), SyscallSucceeds());
  ASSERT_THAT(send(c.client.get(), "2nd", 3, 0), SyscallSucceeds());
  char buf[16] = {};
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(5));
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(3));
  ASSERT_THAT(send(c.server.get(), "reply", 5, 0), SyscallSucceeds());
  EXPECT_THAT(recv(c.client.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(5));
}

TEST(UnixSeqpacketTest, TruncatedRecordSetsMsgTrunc) {
  Conn c = Connect("trunc");
  ASSERT_THAT(send(c.client.get(), "abcdefgh", 8, 0), SyscallSucceeds());
  ASSERT_THAT(send(c.client.get(), "next", 4, 0), SyscallSucceeds());
  char buf[3];
  struct iovec iov = {buf, sizeof(buf)};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  EXPECT_THAT(recvmsg(c.server.get(), &m, 0), SyscallSucceedsWithValue(3));
  EXPECT_TRUE(m.msg_flags & MSG_TRUNC);
  char buf2[8] = {};
  EXPECT_THAT(recv(c.server.get(), buf2, sizeof(buf2), 0), SyscallSucceedsWithValue(4));
  EXPECT_STREQ(buf2, "next");
}

TEST(UnixSeqpacketTest, PeerCloseIsEofAndEpipe) {
  ScopedSigaction ign(SIGPIPE, SIG_IGN);
  Conn c = Connect("eof");
  ASSERT_THAT(send(c.client.get(), "bye", 3, 0), SyscallSucceeds());
  c.client.reset();
  char buf[8];
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(3));
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), MSG_DONTWAIT), SyscallSucceedsWithValue(0));
  EXPECT_THAT(send(c.server.get(), "x", 1, 0), SyscallFailsWithErrno(EPIPE));
}

std::atomic<int> sigpipes{0};
void CountSigpipe(int) { sigpipes++; }

TEST(UnixSeqpacketTest, EpipeWithoutSigpipe) {
  // Unlike stream sockets, record sockets never raise SIGPIPE.
  ScopedSigaction act(SIGPIPE, CountSigpipe);
  for (int type : {SOCK_SEQPACKET, SOCK_DGRAM}) {
    int sv[2];
    ASSERT_THAT(socketpair(AF_UNIX, type, 0, sv), SyscallSucceeds());
    FileDescriptor a(sv[0]), b(sv[1]);
    ASSERT_THAT(shutdown(b.get(), SHUT_RD), SyscallSucceeds());
    sigpipes = 0;
    EXPECT_THAT(send(a.get(), "x", 1, 0), SyscallFailsWithErrno(EPIPE));
    EXPECT_THAT(write(a.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
    EXPECT_EQ(sigpipes.load(), 0);
  }
}

TEST(UnixSeqpacketTest, UnconnectedIsEnotconn) {
  FileDescriptor s(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  char c;
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(recv(s.get(), &c, 1, 0), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixSeqpacketTest, DestinationIgnoredWhenConnected) {
  Conn c = Connect("dest");
  struct sockaddr_un elsewhere {};
  elsewhere.sun_family = AF_UNIX;
  strcpy(elsewhere.sun_path, "/nonexistent/socket");
  EXPECT_THAT(sendto(c.client.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&elsewhere), sizeof(elsewhere)),
              SyscallSucceedsWithValue(1));
  char ch;
  EXPECT_THAT(recv(c.server.get(), &ch, 1, 0), SyscallSucceedsWithValue(1));
}

TEST(UnixSeqpacketTest, ShutdownWriteGivesEof) {
  Conn c = Connect("shut");
  ASSERT_THAT(shutdown(c.client.get(), SHUT_WR), SyscallSucceeds());
  char ch;
  EXPECT_THAT(recv(c.server.get(), &ch, 1, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(send(c.server.get(), "ok", 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_THAT(recv(c.client.get(), &ch, 1, MSG_TRUNC), SyscallSucceedsWithValue(2));
}

}  // namespace
}  // namespace palisade::testing
