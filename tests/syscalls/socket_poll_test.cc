// Readiness of unix sockets for poll(2), select(2) and epoll(7): the bits
// a fresh, connected, half-closed and closed socket reports, a listener
// with a pending connection, a full buffer, and wake-ups of blocked pollers.
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

short Revents(int fd, short events = POLLIN | POLLOUT | POLLRDHUP) {
  struct pollfd p = {fd, events, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceeds());
  return p.revents;
}

struct Pair {
  FileDescriptor a, b;
};

Pair MakePair(int type) {
  int sv[2] = {-1, -1};
  EXPECT_THAT(socketpair(AF_UNIX, type, 0, sv), SyscallSucceeds());
  return {FileDescriptor(sv[0]), FileDescriptor(sv[1])};
}

TEST(SocketPollTest, FreshSockets) {
  // An unconnected connection-oriented socket is "closed": POLLOUT|POLLHUP.
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    FileDescriptor s(socket(AF_UNIX, type, 0));
    EXPECT_EQ(Revents(s.get()), POLLOUT | POLLHUP) << type;
  }
  FileDescriptor d(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_EQ(Revents(d.get()), POLLOUT);
}

TEST(SocketPollTest, ConnectedPair) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    Pair p = MakePair(type);
    EXPECT_EQ(Revents(p.a.get()), POLLOUT);
    ASSERT_THAT(write(p.a.get(), "x", 1), SyscallSucceeds());
    EXPECT_EQ(Revents(p.b.get()), POLLIN | POLLOUT);
    char c;
    ASSERT_THAT(read(p.b.get(), &c, 1), SyscallSucceeds());
    EXPECT_EQ(Revents(p.b.get()), POLLOUT);
  }
}

TEST(SocketPollTest, PeerClosed) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    Pair p = MakePair(type);
    p.b.reset();
    EXPECT_EQ(Revents(p.a.get()), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
  }
}

TEST(SocketPollTest, PeerShutdownWrite) {
  Pair p = MakePair(SOCK_STREAM);
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  EXPECT_EQ(Revents(p.b.get()), POLLIN | POLLOUT | POLLRDHUP);
  // Both directions shut: hang-up.
  ASSERT_THAT(shutdown(p.b.get(), SHUT_WR), SyscallSucceeds());
  EXPECT_EQ(Revents(p.b.get()) & POLLHUP, POLLHUP);
}

TEST(SocketPollTest, ListenerIsReadableWithPendingConnection) {
  FileDescriptor l(socket(AF_UNIX, SOCK_STREAM, 0));
  struct sockaddr_un sa {};
  sa.sun_family = AF_UNIX;
  ASSERT_THAT(bind(l.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa_family_t)), SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 4), SyscallSucceeds());
  EXPECT_EQ(Revents(l.get()), 0);
  socklen_t len = sizeof(sa);
  ASSERT_THAT(getsockname(l.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(connect(c.get(), reinterpret_cast<sockaddr*>(&sa), len), SyscallSucceeds());
  EXPECT_EQ(Revents(l.get()), POLLIN);
  EXPECT_EQ(Revents(c.get()), POLLOUT);
}

TEST(SocketPollTest, BlockedPollWakesOnData) {
  Pair p = MakePair(SOCK_STREAM);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_THAT(write(p.a.get(), "w", 1), SyscallSucceeds());
  });
  struct pollfd pfd = {p.b.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 10000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN);
  writer.join();
}

TEST(SocketPollTest, BlockedPollWakesOnPeerClose) {
  Pair p = MakePair(SOCK_SEQPACKET);
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    p.a.reset();
  });
  struct pollfd pfd = {p.b.get(), POLLRDHUP, 0};
  EXPECT_THAT(poll(&pfd, 1, 10000), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pfd.revents & POLLRDHUP);
  EXPECT_TRUE(pfd.revents & POLLHUP);
  closer.join();
}

TEST(SocketPollTest, FullBufferClearsPollout) {
  Pair p = MakePair(SOCK_DGRAM | SOCK_NONBLOCK);
  char buf[1024] = {};
  int sent = 0;
  while (send(p.a.get(), buf, sizeof(buf), 0) > 0) sent++;
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(Revents(p.a.get(), POLLOUT), 0);
  for (int i = 0; i < sent; i++) ASSERT_THAT(recv(p.b.get(), buf, sizeof(buf), 0), SyscallSucceeds());
  EXPECT_EQ(Revents(p.a.get(), POLLOUT), POLLOUT);
}

TEST(SocketPollTest, Select) {
  Pair p = MakePair(SOCK_STREAM);
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(p.b.get(), &r);
  FD_SET(p.b.get(), &w);
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(p.b.get() + 1, &r, &w, nullptr, &tv), SyscallSucceedsWithValue(1));
  EXPECT_FALSE(FD_ISSET(p.b.get(), &r));
  EXPECT_TRUE(FD_ISSET(p.b.get(), &w));
  ASSERT_THAT(write(p.a.get(), "s", 1), SyscallSucceeds());
  FD_SET(p.b.get(), &r);
  tv = {5, 0};
  EXPECT_THAT(select(p.b.get() + 1, &r, nullptr, nullptr, &tv), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(FD_ISSET(p.b.get(), &r));
}

TEST(SocketPollTest, EpollLevelAndEdge) {
  Pair p = MakePair(SOCK_STREAM);
  FileDescriptor ep(epoll_create1(0));
  struct epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = p.b.get();
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.b.get(), &ev), SyscallSucceeds());
  struct epoll_event out[2];
  EXPECT_THAT(epoll_wait(ep.get(), out, 2, 0), SyscallSucceedsWithValue(0));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_THAT(write(p.a.get(), "e", 1), SyscallSucceeds());
  });
  EXPECT_THAT(epoll_wait(ep.get(), out, 2, 10000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(out[0].data.fd, p.b.get());
  writer.join();
  // Edge-triggered: no new event until new data arrives.
  EXPECT_THAT(epoll_wait(ep.get(), out, 2, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(p.a.get(), "f", 1), SyscallSucceeds());
  EXPECT_THAT(epoll_wait(ep.get(), out, 2, 0), SyscallSucceedsWithValue(1));
  // Level-triggered EPOLLOUT on the writer.
  ev.events = EPOLLOUT;
  ev.data.fd = p.a.get();
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.a.get(), &ev), SyscallSucceeds());
  EXPECT_THAT(epoll_wait(ep.get(), out, 2, 0), SyscallSucceedsWithValue(1));
  EXPECT_THAT(epoll_wait(ep.get(), out, 2, 0), SyscallSucceedsWithValue(1));
}

}  // namespace
}  // namespace palisade::testing
