// Ancillary data on unix sockets (unix(7), cmsg(3), sendmsg(2)):
// SCM_RIGHTS passes open file descriptions (shared offset, any file type),
// MSG_CTRUNC when the receiver's buffer is short, MSG_CMSG_CLOEXEC, the
// EBADF/EINVAL paths, stream boundaries at messages carrying files, and
// SCM_CREDENTIALS with SO_PASSCRED.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

struct Pair {
  FileDescriptor a, b;
};

Pair MakePair(int type) {
  int sv[2] = {-1, -1};
  EXPECT_THAT(socketpair(AF_UNIX, type, 0, sv), SyscallSucceeds());
  return {FileDescriptor(sv[0]), FileDescriptor(sv[1])};
}

// Sends `data` with the given fds in one SCM_RIGHTS message.
ssize_t SendFds(int sock, const std::string& data, const std::vector<int>& fds) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  std::vector<char> ctl(CMSG_SPACE(fds.size() * sizeof(int)));
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (!fds.empty()) {
    m.msg_control = ctl.data();
    m.msg_controllen = ctl.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  }
  return sendmsg(sock, &m, 0);
}

struct Received {
  ssize_t n = -1;
  std::string data;
  std::vector<int> fds;
  int flags = 0;
  bool creds = false;
  struct ucred cred {};
};

Received RecvFds(int sock, size_t ctl_space, int flags = 0, size_t len = 64) {
  Received r;
  std::vector<char> buf(len);
  std::vector<char> ctl(ctl_space);
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl_space ? ctl.data() : nullptr;
  m.msg_controllen = ctl_space;
  r.n = recvmsg(sock, &m, flags);
  if (r.n < 0) return r;
  r.data.assign(buf.data(), r.n);
  r.flags = m.msg_flags;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        r.fds.push_back(fd);
      }
    }
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      r.creds = true;
      memcpy(&r.cred, CMSG_DATA(c), sizeof(r.cred));
    }
  }
  return r;
}

int LowestFreeFd() {
  int fd = dup(0);
  close(fd);
  return fd;
}

TEST(ScmRightsTest, PassedPipeEndWorks) {
  Pair p = MakePair(SOCK_STREAM);
  int pfd[2];
  ASSERT_THAT(pipe(pfd), SyscallSucceeds());
  ASSERT_THAT(SendFds(p.a.get(), "f", {pfd[0]}), SyscallSucceedsWithValue(1));
  close(pfd[0]);  // the message keeps the file open
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(r.n, 1);
  ASSERT_EQ(r.fds.size(), 1u);
  EXPECT_EQ(r.flags & MSG_CTRUNC, 0);
  ASSERT_THAT(write(pfd[1], "via", 3), SyscallSucceeds());
  char buf[4] = {};
  EXPECT_THAT(read(r.fds[0], buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_STREQ(buf, "via");
  close(pfd[1]);
  close(r.fds[0]);
}

TEST(ScmRightsTest, PassedFileSharesItsOffset) {
  TempDir dir;
  std::string path = dir.CreateFile("f", "0123456789");
  FileDescriptor f(open(path.c_str(), O_RDONLY));
  Pair p = MakePair(SOCK_DGRAM);
  ASSERT_THAT(SendFds(p.a.get(), "x", {f.get()}), SyscallSucceeds());
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(r.fds.size(), 1u);
  FileDescriptor g(r.fds[0]);
  EXPECT_NE(g.get(), f.get());
  ASSERT_THAT(lseek(f.get(), 4, SEEK_SET), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(g.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, '4');
  EXPECT_FALSE(fcntl(g.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(ScmRightsTest, SeveralFdsAndSeveralMessages) {
  Pair p = MakePair(SOCK_SEQPACKET);
  int fds[3];
  for (int& fd : fds) fd = open("/dev/null", O_RDONLY);
  // Two SCM_RIGHTS messages in one control buffer accumulate.
  char ctl[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(2 * sizeof(int))] = {};
  struct iovec iov = {const_cast<char*>("m"), 1};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof(ctl);
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fds[0], sizeof(int));
  c = CMSG_NXTHDR(&m, c);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  memcpy(CMSG_DATA(c), &fds[1], 2 * sizeof(int));
  ASSERT_THAT(sendmsg(p.a.get(), &m, 0), SyscallSucceedsWithValue(1));
  Received r = RecvFds(p.b.get(), CMSG_SPACE(8 * sizeof(int)));
  EXPECT_EQ(r.fds.size(), 3u);
  EXPECT_EQ(r.flags & MSG_CTRUNC, 0);
  for (int fd : r.fds) {
    struct stat st {};
    EXPECT_THAT(fstat(fd, &st), SyscallSucceeds());
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    close(fd);
  }
  for (int fd : fds) close(fd);
}

TEST(ScmRightsTest, ShortControlBufferTruncates) {
  Pair p = MakePair(SOCK_DGRAM);
  int fds[2] = {open("/dev/null", O_RDONLY), open("/dev/null", O_RDONLY)};
  ASSERT_THAT(SendFds(p.a.get(), "two", {fds[0], fds[1]}), SyscallSucceeds());
  Received r = RecvFds(p.b.get(), CMSG_LEN(sizeof(int)));  // room for one (CMSG_SPACE pads to two)
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.fds.size(), 1u);
  EXPECT_TRUE(r.flags & MSG_CTRUNC);
  for (int fd : r.fds) close(fd);
  // No room at all: nothing is installed.
  ASSERT_THAT(SendFds(p.a.get(), "two", {fds[0], fds[1]}), SyscallSucceeds());
  int lowest = LowestFreeFd();
  Received r2 = RecvFds(p.b.get(), sizeof(struct cmsghdr));
  EXPECT_EQ(r2.n, 3);
  EXPECT_TRUE(r2.flags & MSG_CTRUNC);
  EXPECT_TRUE(r2.fds.empty());
  EXPECT_EQ(LowestFreeFd(), lowest);
  // No control buffer at all.
  ASSERT_THAT(SendFds(p.a.get(), "two", {fds[0]}), SyscallSucceeds());
  Received r3 = RecvFds(p.b.get(), 0);
  EXPECT_TRUE(r3.flags & MSG_CTRUNC);
  EXPECT_EQ(LowestFreeFd(), lowest);
  close(fds[0]);
  close(fds[1]);
}

TEST(ScmRightsTest, CmsgCloexec) {
  Pair p = MakePair(SOCK_STREAM);
  FileDescriptor n(open("/dev/null", O_RDONLY));
  ASSERT_THAT(SendFds(p.a.get(), "c", {n.get()}), SyscallSucceeds());
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC);
  ASSERT_EQ(r.fds.size(), 1u);
  EXPECT_TRUE(fcntl(r.fds[0], F_GETFD) & FD_CLOEXEC);
  close(r.fds[0]);
}

TEST(ScmRightsTest, SendErrors) {
  Pair p = MakePair(SOCK_STREAM);
  EXPECT_THAT(SendFds(p.a.get(), "x", {12345}), SyscallFailsWithErrno(EBADF));
  std::vector<int> many(254, 0);  // SCM_MAX_FD is 253
  EXPECT_THAT(SendFds(p.a.get(), "x", many), SyscallFailsWithErrno(EINVAL));
  // cmsg_len past the control buffer.
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {const_cast<char*>("x"), 1};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof(ctl);
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = sizeof(ctl) + 8;
  EXPECT_THAT(sendmsg(p.a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  // An unknown SOL_SOCKET type.
  c->cmsg_len = CMSG_LEN(sizeof(int));
  c->cmsg_type = 77;
  EXPECT_THAT(sendmsg(p.a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  // Other levels are skipped.
  c->cmsg_level = 12345;
  EXPECT_THAT(sendmsg(p.a.get(), &m, 0), SyscallSucceedsWithValue(1));
  m.msg_control = reinterpret_cast<void*>(8);
  EXPECT_THAT(sendmsg(p.a.get(), &m, 0), SyscallFailsWithErrno(EFAULT));
  // Nothing failed above may have queued data: only the one "x".
  char buf[8];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_DONTWAIT), SyscallSucceedsWithValue(1));
}

TEST(ScmRightsTest, UnpaddedControlLength) {
  // msg_controllen = CMSG_LEN (no trailing padding) is valid.
  Pair p = MakePair(SOCK_DGRAM);
  FileDescriptor n(open("/dev/null", O_RDONLY));
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {const_cast<char*>("u"), 1};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = CMSG_LEN(sizeof(int));
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = n.get();
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ASSERT_THAT(sendmsg(p.a.get(), &m, 0), SyscallSucceedsWithValue(1));
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(r.fds.size(), 1u);
  close(r.fds[0]);
}

TEST(ScmRightsTest, StreamReadStopsAfterAMessageWithFiles) {
  Pair p = MakePair(SOCK_STREAM);
  FileDescriptor n(open("/dev/null", O_RDONLY));
  ASSERT_THAT(SendFds(p.a.get(), "ab", {n.get()}), SyscallSucceeds());
  ASSERT_THAT(write(p.a.get(), "cd", 2), SyscallSucceeds());
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(r.data, "ab");
  ASSERT_EQ(r.fds.size(), 1u);
  close(r.fds[0]);
  Received r2 = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(r2.data, "cd");
  EXPECT_TRUE(r2.fds.empty());
}

TEST(ScmRightsTest, PlainReadDropsTheFiles) {
  Pair p = MakePair(SOCK_DGRAM);
  FileDescriptor n(open("/dev/null", O_RDONLY));
  ASSERT_THAT(SendFds(p.a.get(), "r", {n.get()}), SyscallSucceeds());
  int lowest = LowestFreeFd();
  char c;
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(LowestFreeFd(), lowest);
}

TEST(ScmRightsTest, PeekDuplicatesTheFiles) {
  Pair p = MakePair(SOCK_DGRAM);
  FileDescriptor n(open("/dev/null", O_RDONLY));
  ASSERT_THAT(SendFds(p.a.get(), "k", {n.get()}), SyscallSucceeds());
  Received peeked = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)), MSG_PEEK);
  ASSERT_EQ(peeked.fds.size(), 1u);
  Received got = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(got.fds.size(), 1u);
  EXPECT_NE(peeked.fds[0], got.fds[0]);
  close(peeked.fds[0]);
  close(got.fds[0]);
}

TEST(ScmRightsTest, PassingASocketEndKeepsTheConnection) {
  Pair p = MakePair(SOCK_STREAM);
  Pair carrier = MakePair(SOCK_DGRAM);
  ASSERT_THAT(SendFds(carrier.a.get(), "s", {p.b.get()}), SyscallSucceeds());
  p.b.reset();
  Received r = RecvFds(carrier.b.get(), CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(r.fds.size(), 1u);
  FileDescriptor moved(r.fds[0]);
  ASSERT_THAT(write(p.a.get(), "alive", 5), SyscallSucceedsWithValue(5));
  char buf[8] = {};
  EXPECT_THAT(read(moved.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
}

TEST(ScmRightsTest, PassToAnotherProcess) {
  Pair p = MakePair(SOCK_SEQPACKET);
  int pfd[2];
  ASSERT_THAT(pipe(pfd), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(int)));
    CHILD_CHECK(r.n == 4 && r.fds.size() == 1);
    CHILD_CHECK(write(r.fds[0], "child", 5) == 5);
    return 0;
  });
  ASSERT_GT(pid, 0);
  ASSERT_THAT(SendFds(p.a.get(), "pipe", {pfd[1]}), SyscallSucceeds());
  close(pfd[1]);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  char buf[8] = {};
  EXPECT_THAT(read(pfd[0], buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_STREQ(buf, "child");
  EXPECT_THAT(read(pfd[0], buf, sizeof(buf)), SyscallSucceedsWithValue(0));  // every writer gone
  close(pfd[0]);
}

TEST(ScmCredentialsTest, PasscredAttachesSenderCredentials) {
  Pair p = MakePair(SOCK_DGRAM);
  int one = 1;
  ASSERT_THAT(setsockopt(p.b.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), SyscallSucceeds());
  ASSERT_THAT(write(p.a.get(), "c", 1), SyscallSucceeds());
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(struct ucred)));
  ASSERT_TRUE(r.creds);
  EXPECT_EQ(r.cred.pid, getpid());
  EXPECT_EQ(r.cred.uid, getuid());
  EXPECT_EQ(r.cred.gid, getgid());
}

TEST(ScmCredentialsTest, NoPasscredNoCredentials) {
  Pair p = MakePair(SOCK_DGRAM);
  ASSERT_THAT(write(p.a.get(), "c", 1), SyscallSucceeds());
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(struct ucred)));
  EXPECT_FALSE(r.creds);
  EXPECT_EQ(r.flags & MSG_CTRUNC, 0);
}

TEST(ScmCredentialsTest, ExplicitCredentials) {
  Pair p = MakePair(SOCK_STREAM);
  int one = 1;
  ASSERT_THAT(setsockopt(p.b.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), SyscallSucceeds());
  struct ucred u = {getpid(), geteuid(), getegid()};
  char ctl[CMSG_SPACE(sizeof(u))] = {};
  struct iovec iov = {const_cast<char*>("e"), 1};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof(ctl);
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(u));
  memcpy(CMSG_DATA(c), &u, sizeof(u));
  ASSERT_THAT(sendmsg(p.a.get(), &m, 0), SyscallSucceeds());
  Received r = RecvFds(p.b.get(), CMSG_SPACE(sizeof(struct ucred)));
  ASSERT_TRUE(r.creds);
  EXPECT_EQ(r.cred.pid, u.pid);
  EXPECT_EQ(r.cred.uid, u.uid);
  // A wrong length is EINVAL.
  c->cmsg_len = CMSG_LEN(sizeof(u) - 4);
  EXPECT_THAT(sendmsg(p.a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  // Short control buffer on the receiving side: truncated, flagged.
  ASSERT_THAT(write(p.a.get(), "t", 1), SyscallSucceeds());
  Received r2 = RecvFds(p.b.get(), CMSG_LEN(4));
  EXPECT_TRUE(r2.flags & MSG_CTRUNC);
}

TEST(ScmCredentialsTest, ForeignPidNeedsPrivilege) {
  if (geteuid() == 0) GTEST_SKIP() << "root may claim any pid (CAP_SYS_ADMIN)";
  Pair p = MakePair(SOCK_DGRAM);
  struct ucred u = {getpid() + 1, getuid(), getgid()};
  char ctl[CMSG_SPACE(sizeof(u))] = {};
  struct iovec iov = {const_cast<char*>("e"), 1};
  struct msghdr m {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof(ctl);
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(u));
  memcpy(CMSG_DATA(c), &u, sizeof(u));
  EXPECT_THAT(sendmsg(p.a.get(), &m, 0), SyscallFailsWithErrno(EPERM));
}

}  // namespace
}  // namespace palisade::testing
