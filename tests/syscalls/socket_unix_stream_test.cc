// unix(7) SOCK_STREAM sockets with names: bind/listen/connect/accept over
// pathnames (the S_IFSOCK node bind creates) and abstract names, autobind,
// getsockname/getpeername, SO_PEERCRED, the errno paths of connect(2),
// bind(2), listen(2) and accept(2), MSG_PEEK and MSG_WAITALL.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
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

Addr PathAddr(const std::string& path) {
  Addr a;
  a.sa.sun_family = AF_UNIX;
  strncpy(a.sa.sun_path, path.c_str(), sizeof(a.sa.sun_path) - 1);
  a.len = offsetof(struct sockaddr_un, sun_path) + path.size() + 1;
  return a;
}

// An abstract name unique to this process and test.
Addr AbstractAddr(const std::string& tag) {
  std::string name = "palisade-test-" + std::to_string(getpid()) + "-" + tag;
  Addr a;
  a.sa.sun_family = AF_UNIX;
  memcpy(a.sa.sun_path + 1, name.data(), name.size());
  a.len = offsetof(struct sockaddr_un, sun_path) + 1 + name.size();
  return a;
}

FileDescriptor Socket(int type) {
  int fd = socket(AF_UNIX, type, 0);
  EXPECT_THAT(fd, SyscallSucceeds());
  return FileDescriptor(fd);
}

FileDescriptor Listener(const Addr& a, int backlog = 16, int type = SOCK_STREAM) {
  FileDescriptor s = Socket(type);
  EXPECT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  EXPECT_THAT(listen(s.get(), backlog), SyscallSucceeds());
  return s;
}

TEST(UnixStreamTest, PathnameConnectAcceptRoundTrip) {
  TempDir dir;
  Addr a = PathAddr(dir.Join("sock"));
  FileDescriptor l = Listener(a);
  struct stat st {};
  ASSERT_THAT(stat(dir.Join("sock").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  struct sockaddr_un peer {};
  socklen_t plen = sizeof(peer);
  int s = accept(l.get(), reinterpret_cast<sockaddr*>(&peer), &plen);
  ASSERT_THAT(s, SyscallSucceeds());
  FileDescriptor srv(s);
  EXPECT_EQ(plen, sizeof(sa_family_t));  // the client is unnamed
  EXPECT_THAT(write(c.get(), "hello", 5), SyscallSucceedsWithValue(5));
  char buf[8] = {};
  EXPECT_THAT(read(srv.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_STREQ(buf, "hello");
  EXPECT_THAT(write(srv.get(), "back", 4), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(c.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
}

TEST(UnixStreamTest, NamesSeenByEachSide) {
  TempDir dir;
  std::string path = dir.Join("named");
  Addr a = PathAddr(path);
  FileDescriptor l = Listener(a);
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  FileDescriptor srv(accept(l.get(), nullptr, nullptr));
  ASSERT_TRUE(srv.valid());
  struct sockaddr_un sa {};
  socklen_t len = sizeof(sa);
  ASSERT_THAT(getpeername(c.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  EXPECT_EQ(len, a.len);
  EXPECT_EQ(std::string(sa.sun_path), path);
  len = sizeof(sa);
  ASSERT_THAT(getsockname(srv.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  EXPECT_EQ(std::string(sa.sun_path), path);
  len = sizeof(sa);
  ASSERT_THAT(getsockname(l.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  EXPECT_EQ(len, a.len);
  // A short buffer gets a truncated name and the full length.
  len = 4;
  memset(&sa, 0, sizeof(sa));
  ASSERT_THAT(getsockname(l.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  EXPECT_EQ(len, a.len);
  EXPECT_EQ(sa.sun_path[2], '\0');
  // An unconnected socket has no peer.
  FileDescriptor lone = Socket(SOCK_STREAM);
  len = sizeof(sa);
  EXPECT_THAT(getpeername(lone.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(getpeername(l.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixStreamTest, AbstractNames) {
  Addr a = AbstractAddr("abs");
  FileDescriptor l = Listener(a);
  // No filesystem node, and the name is taken until the socket closes.
  FileDescriptor other = Socket(SOCK_STREAM);
  EXPECT_THAT(bind(other.get(), a.get(), a.len), SyscallFailsWithErrno(EADDRINUSE));
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  struct sockaddr_un sa {};
  socklen_t len = sizeof(sa);
  ASSERT_THAT(getpeername(c.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  EXPECT_EQ(len, a.len);
  EXPECT_EQ(memcmp(&sa, &a.sa, a.len), 0);
  l.reset();
  FileDescriptor again = Socket(SOCK_STREAM);
  EXPECT_THAT(bind(again.get(), a.get(), a.len), SyscallSucceeds());
}

TEST(UnixStreamTest, AbstractNameIncludesEveryByteOfAddrlen) {
  Addr a = AbstractAddr("len");
  FileDescriptor l = Listener(a);
  // One byte shorter is a different name.
  Addr shorter = a;
  shorter.len--;
  FileDescriptor c = Socket(SOCK_STREAM);
  EXPECT_THAT(connect(c.get(), shorter.get(), shorter.len), SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixStreamTest, Autobind) {
  FileDescriptor s = Socket(SOCK_STREAM);
  struct sockaddr_un sa {};
  sa.sun_family = AF_UNIX;
  ASSERT_THAT(bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa_family_t)), SyscallSucceeds());
  socklen_t len = sizeof(sa);
  ASSERT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(&sa), &len), SyscallSucceeds());
  // sun_family, a NUL, then five hex digits (unix(7) "Autobind feature").
  EXPECT_EQ(len, offsetof(struct sockaddr_un, sun_path) + 6);
  EXPECT_EQ(sa.sun_path[0], '\0');
  for (int i = 1; i < 6; i++) EXPECT_TRUE(isxdigit(sa.sun_path[i])) << i;
  // And the autobound name can be connected to.
  ASSERT_THAT(listen(s.get(), 1), SyscallSucceeds());
  FileDescriptor c = Socket(SOCK_STREAM);
  EXPECT_THAT(connect(c.get(), reinterpret_cast<sockaddr*>(&sa), len), SyscallSucceeds());
}

TEST(UnixStreamTest, BindErrors) {
  TempDir dir;
  Addr a = PathAddr(dir.Join("s"));
  FileDescriptor s = Socket(SOCK_STREAM);
  ASSERT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  // Bound already.
  Addr b = PathAddr(dir.Join("t"));
  EXPECT_THAT(bind(s.get(), b.get(), b.len), SyscallFailsWithErrno(EINVAL));
  // The path exists (any file type).
  FileDescriptor s2 = Socket(SOCK_STREAM);
  EXPECT_THAT(bind(s2.get(), a.get(), a.len), SyscallFailsWithErrno(EADDRINUSE));
  std::string reg = dir.CreateFile("regular");
  Addr r = PathAddr(reg);
  EXPECT_THAT(bind(s2.get(), r.get(), r.len), SyscallFailsWithErrno(EADDRINUSE));
  // Missing parent directory.
  Addr missing = PathAddr(dir.Join("nodir/s"));
  EXPECT_THAT(bind(s2.get(), missing.get(), missing.len), SyscallFailsWithErrno(ENOENT));
  // Bad family and lengths.
  struct sockaddr_un bad {};
  bad.sun_family = AF_INET;
  EXPECT_THAT(bind(s2.get(), reinterpret_cast<sockaddr*>(&bad), sizeof(bad)), SyscallFailsWithErrno(EINVAL));
  bad.sun_family = AF_UNIX;
  EXPECT_THAT(bind(s2.get(), reinterpret_cast<sockaddr*>(&bad), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s2.get(), reinterpret_cast<sockaddr*>(&bad), sizeof(bad) + 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s2.get(), reinterpret_cast<sockaddr*>(8), sizeof(bad)), SyscallFailsWithErrno(EFAULT));
}

TEST(UnixStreamTest, BindModeHonoursUmask) {
  TempDir dir;
  mode_t old = umask(077);
  Addr a = PathAddr(dir.Join("m"));
  FileDescriptor s = Socket(SOCK_STREAM);
  ASSERT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  umask(old);
  struct stat st {};
  ASSERT_THAT(stat(dir.Join("m").c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(UnixStreamTest, ConnectErrors) {
  TempDir dir;
  FileDescriptor c = Socket(SOCK_STREAM);
  Addr nowhere = PathAddr(dir.Join("nowhere"));
  EXPECT_THAT(connect(c.get(), nowhere.get(), nowhere.len), SyscallFailsWithErrno(ENOENT));
  Addr reg = PathAddr(dir.CreateFile("file"));
  EXPECT_THAT(connect(c.get(), reg.get(), reg.len), SyscallFailsWithErrno(ECONNREFUSED));
  // Bound but not listening.
  Addr a = PathAddr(dir.Join("bound"));
  FileDescriptor b = Socket(SOCK_STREAM);
  ASSERT_THAT(bind(b.get(), a.get(), a.len), SyscallSucceeds());
  EXPECT_THAT(connect(c.get(), a.get(), a.len), SyscallFailsWithErrno(ECONNREFUSED));
  // The listener closed: the node stays, nobody answers.
  ASSERT_THAT(listen(b.get(), 1), SyscallSucceeds());
  b.reset();
  EXPECT_THAT(connect(c.get(), a.get(), a.len), SyscallFailsWithErrno(ECONNREFUSED));
  Addr abs = AbstractAddr("unbound");
  EXPECT_THAT(connect(c.get(), abs.get(), abs.len), SyscallFailsWithErrno(ECONNREFUSED));
  struct sockaddr_un sa {};
  sa.sun_family = AF_UNIX;
  EXPECT_THAT(connect(c.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa_family_t)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(connect(c.get(), reinterpret_cast<sockaddr*>(&sa), -1), SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, ConnectWrongTypeIsEprototype) {
  TempDir dir;
  Addr a = PathAddr(dir.Join("seq"));
  FileDescriptor l = Listener(a, 4, SOCK_SEQPACKET);
  FileDescriptor c = Socket(SOCK_STREAM);
  EXPECT_THAT(connect(c.get(), a.get(), a.len), SyscallFailsWithErrno(EPROTOTYPE));
  FileDescriptor d = Socket(SOCK_DGRAM);
  EXPECT_THAT(connect(d.get(), a.get(), a.len), SyscallFailsWithErrno(EPROTOTYPE));
}

TEST(UnixStreamTest, EachTypeHasItsOwnAbstractNamespace) {
  Addr a = AbstractAddr("pertype");
  FileDescriptor l = Listener(a, 4, SOCK_SEQPACKET);
  FileDescriptor c = Socket(SOCK_STREAM);
  EXPECT_THAT(connect(c.get(), a.get(), a.len), SyscallFailsWithErrno(ECONNREFUSED));
  FileDescriptor s = Listener(a, 4, SOCK_STREAM);  // same name, other type: free
  EXPECT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
}

TEST(UnixStreamTest, UnlinkedPathIsGoneButConnectionsStay) {
  TempDir dir;
  std::string path = dir.Join("u");
  Addr a = PathAddr(path);
  FileDescriptor l = Listener(a);
  FileDescriptor c1 = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c1.get(), a.get(), a.len), SyscallSucceeds());
  ASSERT_THAT(unlink(path.c_str()), SyscallSucceeds());
  FileDescriptor c2 = Socket(SOCK_STREAM);
  EXPECT_THAT(connect(c2.get(), a.get(), a.len), SyscallFailsWithErrno(ENOENT));
  FileDescriptor srv(accept(l.get(), nullptr, nullptr));
  ASSERT_TRUE(srv.valid());
  EXPECT_THAT(write(c1.get(), "k", 1), SyscallSucceedsWithValue(1));
}

TEST(UnixStreamTest, StateErrors) {
  FileDescriptor s = Socket(SOCK_STREAM);
  EXPECT_THAT(listen(s.get(), 1), SyscallFailsWithErrno(EINVAL));  // unbound
  EXPECT_THAT(accept(s.get(), nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  char c;
  EXPECT_THAT(send(s.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(recv(s.get(), &c, 1, 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor d = Socket(SOCK_DGRAM);
  Addr a = AbstractAddr("dgl");
  ASSERT_THAT(bind(d.get(), a.get(), a.len), SyscallSucceeds());
  EXPECT_THAT(listen(d.get(), 1), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(accept(d.get(), nullptr, nullptr), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(accept4(s.get(), nullptr, nullptr, 0x4000000), SyscallFailsWithErrno(EINVAL));
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(accept(fds[0], nullptr, nullptr), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(listen(fds[0], 1), SyscallFailsWithErrno(ENOTSOCK));
  close(fds[0]);
  close(fds[1]);
}

TEST(UnixStreamTest, ConnectTwiceIsEisconnAndSendtoRules) {
  Addr a = AbstractAddr("twice");
  FileDescriptor l = Listener(a);
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  EXPECT_THAT(connect(c.get(), a.get(), a.len), SyscallFailsWithErrno(EISCONN));
  EXPECT_THAT(sendto(c.get(), "x", 1, 0, a.get(), a.len), SyscallFailsWithErrno(EISCONN));
  FileDescriptor u = Socket(SOCK_STREAM);
  EXPECT_THAT(sendto(u.get(), "x", 1, 0, a.get(), a.len), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(listen(c.get(), 1), SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, NonblockingAcceptAndAccept4Flags) {
  Addr a = AbstractAddr("nb");
  FileDescriptor l = Listener(a);
  ASSERT_THAT(fcntl(l.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(accept(l.get(), nullptr, nullptr), SyscallFailsWithErrno(EAGAIN));
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  struct pollfd pfd = {l.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  int s = accept4(l.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ASSERT_THAT(s, SyscallSucceeds());
  FileDescriptor srv(s);
  EXPECT_TRUE(fcntl(s, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(s, F_GETFD) & FD_CLOEXEC);
  char ch;
  EXPECT_THAT(read(s, &ch, 1), SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixStreamTest, DataSentBeforeAcceptIsKept) {
  Addr a = AbstractAddr("early");
  FileDescriptor l = Listener(a);
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  ASSERT_THAT(write(c.get(), "early", 5), SyscallSucceedsWithValue(5));
  FileDescriptor srv(accept(l.get(), nullptr, nullptr));
  char buf[8] = {};
  EXPECT_THAT(read(srv.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_STREQ(buf, "early");
}

TEST(UnixStreamTest, ListenerCloseResetsPendingConnections) {
  Addr a = AbstractAddr("reset");
  FileDescriptor l = Listener(a);
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  l.reset();
  char ch;
  EXPECT_THAT(read(c.get(), &ch, 1), SyscallFailsWithErrno(ECONNRESET));
  EXPECT_THAT(read(c.get(), &ch, 1), SyscallSucceedsWithValue(0));
}

TEST(UnixStreamTest, FullBacklogIsEagainForNonblockingConnect) {
  Addr a = AbstractAddr("backlog");
  FileDescriptor l = Listener(a, 0);
  FileDescriptor c1 = Socket(SOCK_STREAM | SOCK_NONBLOCK);
  ASSERT_THAT(connect(c1.get(), a.get(), a.len), SyscallSucceeds());
  FileDescriptor c2 = Socket(SOCK_STREAM | SOCK_NONBLOCK);
  EXPECT_THAT(connect(c2.get(), a.get(), a.len), SyscallFailsWithErrno(EAGAIN));
  FileDescriptor srv(accept(l.get(), nullptr, nullptr));
  ASSERT_TRUE(srv.valid());
  EXPECT_THAT(connect(c2.get(), a.get(), a.len), SyscallSucceeds());
}

TEST(UnixStreamTest, BlockingConnectWaitsForBacklogRoom) {
  Addr a = AbstractAddr("wait");
  FileDescriptor l = Listener(a, 0);
  FileDescriptor c1 = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c1.get(), a.get(), a.len), SyscallSucceeds());
  std::thread acceptor([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int s = accept(l.get(), nullptr, nullptr);
    EXPECT_THAT(s, SyscallSucceeds());
    close(s);
  });
  FileDescriptor c2 = Socket(SOCK_STREAM);
  EXPECT_THAT(connect(c2.get(), a.get(), a.len), SyscallSucceeds());
  acceptor.join();
}

TEST(UnixStreamTest, PeerCredentials) {
  Addr a = AbstractAddr("cred");
  FileDescriptor l = Listener(a);
  FileDescriptor c = Socket(SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  FileDescriptor srv(accept(l.get(), nullptr, nullptr));
  for (int fd : {c.get(), srv.get()}) {
    struct ucred cr {};
    socklen_t len = sizeof(cr);
    ASSERT_THAT(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len), SyscallSucceeds());
    EXPECT_EQ(len, sizeof(cr));
    EXPECT_EQ(cr.pid, getpid());
    EXPECT_EQ(cr.uid, geteuid());
    EXPECT_EQ(cr.gid, getegid());
  }
}

TEST(UnixStreamTest, PeekLeavesDataQueued) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  ASSERT_THAT(write(a.get(), "abc", 3), SyscallSucceeds());
  ASSERT_THAT(write(a.get(), "def", 3), SyscallSucceeds());
  char buf[8] = {};
  EXPECT_THAT(recv(b.get(), buf, sizeof(buf), MSG_PEEK), SyscallSucceedsWithValue(6));
  EXPECT_STREQ(buf, "abcdef");
  memset(buf, 0, sizeof(buf));
  EXPECT_THAT(recv(b.get(), buf, 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_THAT(recv(b.get(), buf, sizeof(buf), MSG_PEEK), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "cdef");
}

TEST(UnixStreamTest, WaitallCollectsSeveralWrites) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  std::thread writer([&] {
    for (const char* part : {"12", "34", "56"}) {
      EXPECT_THAT(write(a.get(), part, 2), SyscallSucceeds());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  char buf[7] = {};
  EXPECT_THAT(recv(b.get(), buf, 6, MSG_WAITALL), SyscallSucceedsWithValue(6));
  EXPECT_STREQ(buf, "123456");
  writer.join();
  // At EOF, MSG_WAITALL returns what there is.
  ASSERT_THAT(write(a.get(), "z", 1), SyscallSucceeds());
  a.reset();
  EXPECT_THAT(recv(b.get(), buf, 6, MSG_WAITALL), SyscallSucceedsWithValue(1));
}

TEST(UnixStreamTest, ConnectNeedsWritePermissionOnTheNode) {
  TempDir dir;
  ASSERT_THAT(chmod(dir.path().c_str(), 0755), SyscallSucceeds());
  std::string path = dir.Join("private");
  Addr a = PathAddr(path);
  FileDescriptor l = Listener(a);
  ASSERT_THAT(chmod(path.c_str(), 0555), SyscallSucceeds());
  int status = RunInChild([&] {
    // Root passes every permission check: become nobody first.
    if (geteuid() == 0) {
      CHILD_CHECK(setgid(65534) == 0);
      CHILD_CHECK(setuid(65534) == 0);
    }
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHILD_CHECK(c >= 0);
    CHILD_CHECK(connect(c, a.get(), a.len) == -1);
    CHILD_CHECK(errno == EACCES);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST(UnixStreamTest, ConnectionAcrossFork) {
  TempDir dir;
  Addr a = PathAddr(dir.Join("fork"));
  FileDescriptor l = Listener(a);
  pid_t pid = ForkChild([&] {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHILD_CHECK(c >= 0);
    CHILD_CHECK(connect(c, a.get(), a.len) == 0);
    CHILD_CHECK(write(c, "from child", 10) == 10);
    char buf[8];
    CHILD_CHECK(read(c, buf, sizeof(buf)) == 2);  // "ok", then the parent closes
    CHILD_CHECK(read(c, buf, sizeof(buf)) == 0);
    return 0;
  });
  ASSERT_GT(pid, 0);
  FileDescriptor srv(accept(l.get(), nullptr, nullptr));
  ASSERT_TRUE(srv.valid());
  char buf[16] = {};
  size_t got = 0;
  while (got < 10) {
    ssize_t n = read(srv.get(), buf + got, sizeof(buf) - got);
    ASSERT_GT(n, 0);
    got += n;
  }
  EXPECT_STREQ(buf, "from child");
  struct ucred cr {};
  socklen_t len = sizeof(cr);
  ASSERT_THAT(getsockopt(srv.get(), SOL_SOCKET, SO_PEERCRED, &cr, &len), SyscallSucceeds());
  EXPECT_EQ(cr.pid, pid);
  ASSERT_THAT(write(srv.get(), "ok", 2), SyscallSucceeds());
  srv.reset();
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
}

TEST(UnixStreamTest, ManyConcurrentClients) {
  Addr a = AbstractAddr("many");
  FileDescriptor l = Listener(a, 64);
  constexpr int kThreads = 4, kPerThread = 25;
  std::thread server([&] {
    for (int i = 0; i < kThreads * kPerThread; i++) {
      int s = accept(l.get(), nullptr, nullptr);
      ASSERT_THAT(s, SyscallSucceeds());
      char buf[16];
      ssize_t n = read(s, buf, sizeof(buf));
      ASSERT_GT(n, 0);
      ASSERT_THAT(write(s, buf, n), SyscallSucceedsWithValue(n));
      close(s);
    }
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; t++) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        FileDescriptor c = Socket(SOCK_STREAM);
        ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
        std::string msg = std::to_string(t * 1000 + i);
        ASSERT_THAT(write(c.get(), msg.data(), msg.size()), SyscallSucceeds());
        char buf[16] = {};
        ASSERT_THAT(read(c.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(msg.size()));
        EXPECT_EQ(std::string(buf), msg);
      }
    });
  }
  for (auto& c : clients) c.join();
  server.join();
}

std::atomic<int> alarms{0};
void CountAlarm(int) { alarms++; }

TEST(UnixStreamTest, BlockedAcceptIsInterrupted) {
  ScopedSigaction act(SIGALRM, CountAlarm, 0);  // no SA_RESTART
  Addr a = AbstractAddr("intr");
  FileDescriptor l = Listener(a);
  struct itimerval it = {{0, 100000}, {0, 100000}};  // repeat until seen
  ASSERT_THAT(setitimer(ITIMER_REAL, &it, nullptr), SyscallSucceeds());
  EXPECT_THAT(accept(l.get(), nullptr, nullptr), SyscallFailsWithErrno(EINTR));
  struct itimerval off = {};
  setitimer(ITIMER_REAL, &off, nullptr);
  EXPECT_GE(alarms.load(), 1);
}

TEST(UnixStreamTest, SendTimeout) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  struct timeval tv = {0, 50000};
  ASSERT_THAT(setsockopt(a.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), SyscallSucceeds());
  std::vector<char> big(4 << 20);
  // Nobody reads: a part goes in, then the timeout ends the call.
  ssize_t n = send(a.get(), big.data(), big.size(), 0);
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_GT(n, 0);
  EXPECT_LT(static_cast<size_t>(n), big.size());
  EXPECT_THAT(send(a.get(), big.data(), big.size(), 0), SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixStreamTest, SocketArgumentErrors) {
  EXPECT_THAT(socket(AF_UNIX, SOCK_STREAM | 0x10000, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socket(AF_UNIX, 12, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socket(AF_UNIX, SOCK_RDM, 0), SyscallFailsWithErrno(ESOCKTNOSUPPORT));
  EXPECT_THAT(socket(AF_UNIX, SOCK_STREAM, 5), SyscallFailsWithErrno(EPROTONOSUPPORT));
  EXPECT_THAT(socket(AF_MAX, SOCK_STREAM, 0), SyscallFailsWithErrno(EAFNOSUPPORT));
  int fd = socket(AF_UNIX, SOCK_STREAM, PF_UNIX);
  EXPECT_THAT(fd, SyscallSucceeds());
  close(fd);
}

}  // namespace
}  // namespace palisade::testing
