// Pseudoterminals (pty(7), posix_openpt(3), openpty(3), termios(3),
// ioctl_tty(2)): the /dev/ptmx + /dev/pts/N pair, unlockpt and ptsname,
// the line discipline (canonical editing, echo, ICRNL/ONLCR, VEOF, raw
// mode), termios and window size ioctls, controlling terminals and job
// control (VINTR/VSUSP to the foreground group, TIOCSPGRP, SIGTTIN,
// SIGWINCH) and the hangup when the master closes.
//
// Anything that needs a session (setsid) or may be killed by a signal
// runs in a forked child: inside the sandbox the test is PID 1.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

struct Pty {
  FileDescriptor master, replica;
  std::string name;
};

Pty OpenPty() {
  int m = -1, s = -1;
  char name[64] = {};
  EXPECT_THAT(openpty(&m, &s, name, nullptr, nullptr), SyscallSucceeds());
  return Pty{FileDescriptor(m), FileDescriptor(s), name};
}

// Reads what is available within a few seconds (poll first so a missing
// byte fails the test instead of hanging it).
std::string ReadSome(int fd, size_t max = 256) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 10000) != 1) return "<nothing to read>";
  std::string buf(max, '\0');
  ssize_t n = read(fd, buf.data(), buf.size());
  if (n < 0) return "<read error " + std::to_string(errno) + ">";
  buf.resize(static_cast<size_t>(n));
  return buf;
}

bool NothingToRead(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 50) == 0;
}

void WriteStr(int fd, const std::string& s) {
  ASSERT_THAT(write(fd, s.data(), s.size()), SyscallSucceedsWithValue(ssize_t(s.size())));
}

TEST(PtyTest, OpenptyGivesATerminalPairUnderDevPts) {
  Pty p = OpenPty();
  EXPECT_EQ(p.name.rfind("/dev/pts/", 0), 0u) << p.name;
  EXPECT_EQ(isatty(p.master.get()), 1);
  EXPECT_EQ(isatty(p.replica.get()), 1);
  struct stat fs, ps;
  ASSERT_THAT(fstat(p.replica.get(), &fs), SyscallSucceeds());
  ASSERT_THAT(stat(p.name.c_str(), &ps), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(ps.st_mode));
  EXPECT_EQ(major(ps.st_rdev), 136u);
  EXPECT_EQ(fs.st_rdev, ps.st_rdev);
  EXPECT_EQ(fs.st_ino, ps.st_ino);
  char* tn = ttyname(p.replica.get());
  ASSERT_NE(tn, nullptr);
  EXPECT_EQ(std::string(tn), p.name);
  unsigned n = 0;
  ASSERT_THAT(ioctl(p.master.get(), TIOCGPTN, &n), SyscallSucceeds());
  EXPECT_EQ(p.name, "/dev/pts/" + std::to_string(n));
  // The replica has no pty number to give.
  EXPECT_THAT(ioctl(p.replica.get(), TIOCGPTN, &n), SyscallFailsWithErrno(ENOTTY));
}

TEST(PtyTest, PosixOpenptGrantUnlock) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_THAT(m, SyscallSucceeds());
  FileDescriptor master(m);
  ASSERT_THAT(grantpt(m), SyscallSucceeds());
  char* name = ptsname(m);
  ASSERT_NE(name, nullptr);
  std::string path = name;
  // "the slave ... can't be opened until unlocked": EIO while locked.
  int locked = 1;
  ASSERT_THAT(ioctl(m, TIOCGPTLCK, &locked), SyscallSucceeds());
  EXPECT_EQ(locked, 1);
  EXPECT_THAT(open(path.c_str(), O_RDWR | O_NOCTTY), SyscallFailsWithErrno(EIO));
  ASSERT_THAT(unlockpt(m), SyscallSucceeds());
  ASSERT_THAT(ioctl(m, TIOCGPTLCK, &locked), SyscallSucceeds());
  EXPECT_EQ(locked, 0);
  int s = open(path.c_str(), O_RDWR | O_NOCTTY);
  ASSERT_THAT(s, SyscallSucceeds());
  FileDescriptor replica(s);
  WriteStr(s, "x\n");
  EXPECT_EQ(ReadSome(m), "x\r\n");
  // grantpt/unlockpt on something that is not a master: EINVAL or ENOTTY.
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  EXPECT_NE(unlockpt(r.get()), 0);
}

TEST(PtyTest, PeerOpensTheReplica) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_THAT(m, SyscallSucceeds());
  FileDescriptor master(m);
  ASSERT_THAT(unlockpt(m), SyscallSucceeds());
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_THAT(s, SyscallSucceeds());
  FileDescriptor replica(s);
  EXPECT_THAT(fcntl(s, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  struct stat a, b;
  ASSERT_THAT(fstat(s, &a), SyscallSucceeds());
  ASSERT_THAT(stat(ptsname(m), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_rdev, b.st_rdev);
}

TEST(PtyTest, OutputProcessingOnlcr) {
  Pty p = OpenPty();
  WriteStr(p.replica.get(), "hi\nthere\n");
  EXPECT_EQ(ReadSome(p.master.get()), "hi\r\nthere\r\n");
  // Without OPOST the bytes pass unchanged.
  struct termios t;
  ASSERT_THAT(tcgetattr(p.replica.get(), &t), SyscallSucceeds());
  t.c_oflag &= ~OPOST;
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSANOW, &t), SyscallSucceeds());
  WriteStr(p.replica.get(), "a\nb");
  EXPECT_EQ(ReadSome(p.master.get()), "a\nb");
}

TEST(PtyTest, CanonicalInputWithEchoAndIcrnl) {
  Pty p = OpenPty();
  WriteStr(p.master.get(), "abc\r");
  EXPECT_EQ(ReadSome(p.replica.get()), "abc\n");
  EXPECT_EQ(ReadSome(p.master.get()), "abc\r\n");  // the echo
}

TEST(PtyTest, PartialLineIsNotReadable) {
  Pty p = OpenPty();
  ASSERT_THAT(fcntl(p.replica.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  WriteStr(p.master.get(), "abc");
  char c;
  EXPECT_THAT(read(p.replica.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  EXPECT_TRUE(NothingToRead(p.replica.get()));
  WriteStr(p.master.get(), "\n");
  // One line at a time, and a short read leaves the rest of the line.
  char buf[2];
  ASSERT_THAT(read(p.replica.get(), buf, 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "ab");
  EXPECT_EQ(ReadSome(p.replica.get()), "c\n");
}

TEST(PtyTest, EraseKillAndWordErase) {
  Pty p = OpenPty();
  WriteStr(p.master.get(), "abx\x7f" "c\n");
  EXPECT_EQ(ReadSome(p.replica.get()), "abc\n");
  WriteStr(p.master.get(), "junk\x15ok\n");
  EXPECT_EQ(ReadSome(p.replica.get()), "ok\n");
  WriteStr(p.master.get(), "one two\x17three\n");
  EXPECT_EQ(ReadSome(p.replica.get()), "one three\n");
  // Erasing past the start of a line does nothing.
  WriteStr(p.master.get(), "\x7f\x7fz\n");
  EXPECT_EQ(ReadSome(p.replica.get()), "z\n");
}

TEST(PtyTest, VeofEndsLinesAndReadsAsEndOfFile) {
  Pty p = OpenPty();
  WriteStr(p.master.get(), "ab\x04");
  EXPECT_EQ(ReadSome(p.replica.get()), "ab");  // the line, without the EOF char
  WriteStr(p.master.get(), "\x04");
  char buf[8];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST(PtyTest, RawModeHasNoTranslationNoEchoNoLines) {
  Pty p = OpenPty();
  struct termios t;
  ASSERT_THAT(tcgetattr(p.replica.get(), &t), SyscallSucceeds());
  cfmakeraw(&t);
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSANOW, &t), SyscallSucceeds());
  WriteStr(p.master.get(), "a\rb\x03");
  std::string got;
  while (got.size() < 4) {
    std::string s = ReadSome(p.replica.get());
    if (s[0] == '<') break;
    got += s;
  }
  EXPECT_EQ(got, "a\rb\x03");
  EXPECT_TRUE(NothingToRead(p.master.get()));  // no echo
}

TEST(PtyTest, NonCanonicalVminZeroReadsNothingAtOnce) {
  Pty p = OpenPty();
  struct termios t;
  ASSERT_THAT(tcgetattr(p.replica.get(), &t), SyscallSucceeds());
  t.c_lflag &= ~(ICANON | ECHO);
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSANOW, &t), SyscallSucceeds());
  char buf[4];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST(PtyTest, SwitchingToRawHandsOverThePartialLine) {
  Pty p = OpenPty();
  WriteStr(p.master.get(), "xy");
  struct termios t;
  ASSERT_THAT(tcgetattr(p.replica.get(), &t), SyscallSucceeds());
  t.c_lflag &= ~ICANON;
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSANOW, &t), SyscallSucceeds());
  EXPECT_EQ(ReadSome(p.replica.get()), "xy");
}

TEST(PtyTest, DefaultTermiosAndRoundTrip) {
  Pty p = OpenPty();
  struct termios t;
  ASSERT_THAT(tcgetattr(p.replica.get(), &t), SyscallSucceeds());
  EXPECT_TRUE(t.c_lflag & ICANON);
  EXPECT_TRUE(t.c_lflag & ECHO);
  EXPECT_TRUE(t.c_lflag & ISIG);
  EXPECT_TRUE(t.c_iflag & ICRNL);
  EXPECT_TRUE(t.c_oflag & OPOST);
  EXPECT_TRUE(t.c_oflag & ONLCR);
  EXPECT_EQ(t.c_cc[VINTR], 3);
  EXPECT_EQ(t.c_cc[VEOF], 4);
  EXPECT_EQ(t.c_cc[VMIN], 1);
  t.c_lflag &= ~ECHO;
  t.c_cc[VINTR] = 7;
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSAFLUSH, &t), SyscallSucceeds());
  struct termios u;
  ASSERT_THAT(tcgetattr(p.replica.get(), &u), SyscallSucceeds());
  EXPECT_FALSE(u.c_lflag & ECHO);
  EXPECT_EQ(u.c_cc[VINTR], 7);
  // ECHO off: input arrives, nothing comes back to the master.
  WriteStr(p.master.get(), "q\n");
  EXPECT_EQ(ReadSome(p.replica.get()), "q\n");
  EXPECT_TRUE(NothingToRead(p.master.get()));
  // Not a terminal: ENOTTY.
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  EXPECT_EQ(isatty(r.get()), 0);
  EXPECT_THAT(tcgetattr(r.get(), &t), SyscallFailsWithErrno(ENOTTY));
}

TEST(PtyTest, FionreadAndFlush) {
  Pty p = OpenPty();
  WriteStr(p.master.get(), "abc\n");
  ASSERT_TRUE(!NothingToRead(p.replica.get()));
  int n = -1;
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 4);
  ASSERT_THAT(tcflush(p.replica.get(), TCIFLUSH), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  EXPECT_THAT(tcflush(p.replica.get(), 7), SyscallFailsWithErrno(EINVAL));
}

TEST(PtyTest, WindowSize) {
  struct winsize ws = {};
  ws.ws_row = 33;
  ws.ws_col = 101;
  int m = -1, s = -1;
  ASSERT_THAT(openpty(&m, &s, nullptr, nullptr, &ws), SyscallSucceeds());
  FileDescriptor master(m), replica(s);
  struct winsize got = {};
  ASSERT_THAT(ioctl(s, TIOCGWINSZ, &got), SyscallSucceeds());
  EXPECT_EQ(got.ws_row, 33);
  EXPECT_EQ(got.ws_col, 101);
  ws.ws_row = 10;
  ASSERT_THAT(ioctl(m, TIOCSWINSZ, &ws), SyscallSucceeds());
  ASSERT_THAT(ioctl(s, TIOCGWINSZ, &got), SyscallSucceeds());
  EXPECT_EQ(got.ws_row, 10);
}

TEST(PtyTest, PollAndEpollReadiness) {
  Pty p = OpenPty();
  struct pollfd pf = {p.replica.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&pf, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pf.revents, POLLOUT);
  int ep_raw = epoll_create1(0);
  ASSERT_THAT(ep_raw, SyscallSucceeds());
  FileDescriptor ep(ep_raw);
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u32 = 5;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.master.get(), &ev), SyscallSucceeds());
  struct epoll_event out;
  EXPECT_THAT(epoll_wait(ep.get(), &out, 1, 0), SyscallSucceedsWithValue(0));
  WriteStr(p.replica.get(), "z");
  ASSERT_THAT(epoll_wait(ep.get(), &out, 1, 10000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(out.data.u32, 5u);
  WriteStr(p.master.get(), "k\n");
  pf.events = POLLIN;
  ASSERT_THAT(poll(&pf, 1, 10000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pf.revents, POLLIN);
}

TEST(PtyTest, MasterSeesHangupWhenReplicaCloses) {
  Pty p = OpenPty();
  p.replica.reset();
  struct pollfd pf = {p.master.get(), POLLIN, 0};
  ASSERT_THAT(poll(&pf, 1, 10000), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pf.revents & POLLHUP);
  char c;
  EXPECT_THAT(read(p.master.get(), &c, 1), SyscallFailsWithErrno(EIO));
}

TEST(PtyTest, ReplicaNodeGoesWithTheMaster) {
  Pty p = OpenPty();
  std::string name = p.name;
  p.master.reset();
  struct stat st;
  EXPECT_THAT(stat(name.c_str(), &st), SyscallFailsWithErrno(ENOENT));
  // The replica reads end of file and cannot write.
  char c;
  EXPECT_THAT(read(p.replica.get(), &c, 1), SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(p.replica.get(), "x", 1), SyscallFailsWithErrno(EIO));
}

TEST(PtyTest, ControllingTerminalRules) {
  Pty p = OpenPty();
  int status = RunInChild([&] {
    // Not a session leader: TIOCSCTTY is EPERM; not our terminal: ENOTTY.
    CHILD_CHECK(ioctl(p.replica.get(), TIOCSCTTY, 0) == -1 && errno == EPERM);
    pid_t pg;
    CHILD_CHECK(ioctl(p.replica.get(), TIOCGPGRP, &pg) == -1 && errno == ENOTTY);
    CHILD_CHECK(setsid() == getpid());
    CHILD_CHECK(ioctl(p.replica.get(), TIOCSCTTY, 0) == 0);
    CHILD_CHECK(tcgetpgrp(p.replica.get()) == getpid());
    CHILD_CHECK(tcgetsid(p.replica.get()) == getpid());
    // The master answers too.
    CHILD_CHECK(tcgetpgrp(p.master.get()) == getpid());
    // A group that does not exist: ESRCH ... 
    CHILD_CHECK(tcsetpgrp(p.replica.get(), 999999) == -1 && errno == ESRCH);
    // ... a group of this session: fine.
    int go[2];
    CHILD_CHECK(pipe(go) == 0);
    pid_t kid = fork();
    if (kid == 0) {
      setpgid(0, 0);
      char b;
      (void)!read(go[0], &b, 1);
      _exit(0);
    }
    CHILD_CHECK(kid > 0);
    setpgid(kid, kid);  // both sides, to avoid the race
    CHILD_CHECK(tcsetpgrp(p.replica.get(), kid) == 0);
    CHILD_CHECK(tcgetpgrp(p.replica.get()) == kid);
    // Back to us: we are now in the background, so ignore SIGTTOU first.
    signal(SIGTTOU, SIG_IGN);
    CHILD_CHECK(tcsetpgrp(p.replica.get(), getpid()) == 0);
    CHILD_CHECK(write(go[1], "x", 1) == 1);
    int st;
    CHILD_CHECK(waitpid(kid, &st, 0) == kid);
    // Giving up the terminal.
    signal(SIGHUP, SIG_IGN);
    CHILD_CHECK(ioctl(p.replica.get(), TIOCNOTTY) == 0);
    CHILD_CHECK(tcgetpgrp(p.replica.get()) == -1 && errno == ENOTTY);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST(PtyTest, OpeningWithoutNocttyMakesItTheControllingTerminal) {
  Pty p = OpenPty();
  int status = RunInChild([&] {
    CHILD_CHECK(setsid() == getpid());
    // With O_NOCTTY it does not.
    int nc = open(p.name.c_str(), O_RDWR | O_NOCTTY);
    CHILD_CHECK(nc >= 0);
    CHILD_CHECK(tcgetsid(nc) == -1 && errno == ENOTTY);
    int fd = open(p.name.c_str(), O_RDWR);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(tcgetsid(fd) == getpid());
    // /dev/tty would now be it as well; the sandbox's /dev/tty is the
    // container's terminal, so only the ioctl view is checked.
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

// A child that makes the pty its controlling terminal, tells the parent
// over `ready`, then runs `then`.
pid_t ForkSessionOn(const Pty& p, int ready_fd, const std::function<int()>& then) {
  return ForkChild([&] {
    CHILD_CHECK(setsid() == getpid());
    CHILD_CHECK(ioctl(p.replica.get(), TIOCSCTTY, 0) == 0);
    CHILD_CHECK(write(ready_fd, "r", 1) == 1);
    return then();
  });
}

void AwaitReady(int fd) {
  struct pollfd pf = {fd, POLLIN, 0};
  ASSERT_THAT(poll(&pf, 1, 10000), SyscallSucceedsWithValue(1));
  char c;
  ASSERT_THAT(read(fd, &c, 1), SyscallSucceedsWithValue(1));
}

TEST(PtyTest, InterruptCharacterSendsSigintToForegroundGroup) {
  Pty p = OpenPty();
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  FileDescriptor rr(ready[0]), rw(ready[1]);
  pid_t kid = ForkSessionOn(p, rw.get(), [&] {
    char buf[16];
    (void)!read(p.replica.get(), buf, sizeof(buf));  // interrupted by SIGINT
    return 3;
  });
  ASSERT_GT(kid, 0);
  AwaitReady(rr.get());
  usleep(20 * 1000);  // let it block in read (not required for the signal)
  WriteStr(p.master.get(), "\x03");
  EXPECT_TRUE(KilledBy(WaitForStatus(kid), SIGINT));
  EXPECT_EQ(ReadSome(p.master.get()), "^C");  // ECHOCTL
}

TEST(PtyTest, SuspendCharacterStopsTheForegroundGroup) {
  Pty p = OpenPty();
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  FileDescriptor rr(ready[0]), rw(ready[1]);
  // A session leader with a foreground job: the job's group is not
  // orphaned (its parent is in the session), so SIGTSTP stops it; an
  // orphaned group would ignore it (POSIX job control).
  pid_t kid = ForkChild([&] {
    CHILD_CHECK(setsid() == getpid());
    CHILD_CHECK(ioctl(p.replica.get(), TIOCSCTTY, 0) == 0);
    pid_t job = fork();
    if (job == 0) {
      setpgid(0, 0);
      // Read only once in the foreground: a read from the background
      // would stop the job with SIGTTIN instead (the parent's tcsetpgrp
      // may not have happened yet).
      while (tcgetpgrp(p.replica.get()) != getpid()) usleep(1000);
      char buf[16];
      for (;;) (void)!read(p.replica.get(), buf, sizeof(buf));
    }
    CHILD_CHECK(job > 0);
    setpgid(job, job);
    CHILD_CHECK(tcsetpgrp(p.replica.get(), job) == 0);
    CHILD_CHECK(write(rw.get(), "r", 1) == 1);
    int st = 0;
    CHILD_CHECK(waitpid(job, &st, WUNTRACED) == job);
    CHILD_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
    kill(job, SIGKILL);
    waitpid(job, &st, 0);
    return 0;
  });
  ASSERT_GT(kid, 0);
  AwaitReady(rr.get());
  WriteStr(p.master.get(), "\x1a");
  EXPECT_TRUE(ExitedWith(WaitForStatus(kid), 0));
}

TEST(PtyTest, IsigOffDeliversControlCharsAsData) {
  Pty p = OpenPty();
  struct termios t;
  ASSERT_THAT(tcgetattr(p.replica.get(), &t), SyscallSucceeds());
  t.c_lflag &= ~(ISIG | ECHO);
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSANOW, &t), SyscallSucceeds());
  WriteStr(p.master.get(), "\x03\n");
  EXPECT_EQ(ReadSome(p.replica.get()), "\x03\n");
}

volatile sig_atomic_t g_winch = 0;

TEST(PtyTest, WindowChangeSendsSigwinch) {
  Pty p = OpenPty();
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  FileDescriptor rr(ready[0]), rw(ready[1]);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGWINCH);
  sigset_t old;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &s, &old), SyscallSucceeds());
  pid_t kid = ForkSessionOn(p, rw.get(), [&] {
    // SIGWINCH is ignored by default: catch it with a handler (blocked
    // until sigsuspend, so it cannot slip by in between).
    struct sigaction sa = {};
    sa.sa_handler = [](int) { g_winch = 1; };
    CHILD_CHECK(sigaction(SIGWINCH, &sa, nullptr) == 0);
    sigset_t none;
    sigemptyset(&none);
    alarm(10);  // a missing signal fails instead of hanging
    while (!g_winch) sigsuspend(&none);
    return 0;
  });
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ASSERT_GT(kid, 0);
  AwaitReady(rr.get());
  struct winsize ws = {};
  ws.ws_row = 50;
  ws.ws_col = 132;
  ASSERT_THAT(ioctl(p.master.get(), TIOCSWINSZ, &ws), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(kid), 0));
  // The same size again is no change: no signal (checked natively by
  // Linux's tty_do_resize; here just that it succeeds).
  ASSERT_THAT(ioctl(p.master.get(), TIOCSWINSZ, &ws), SyscallSucceeds());
}

TEST(PtyTest, BackgroundReadGetsSigttin) {
  Pty p = OpenPty();
  int status = RunInChild([&] {
    CHILD_CHECK(setsid() == getpid());
    CHILD_CHECK(ioctl(p.replica.get(), TIOCSCTTY, 0) == 0);
    pid_t kid = fork();
    if (kid == 0) {
      setpgid(0, 0);  // a background group of the session
      char c;
      (void)!read(p.replica.get(), &c, 1);
      _exit(9);
    }
    CHILD_CHECK(kid > 0);
    setpgid(kid, kid);
    int st = 0;
    CHILD_CHECK(waitpid(kid, &st, WUNTRACED) == kid);
    CHILD_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
    kill(kid, SIGKILL);
    waitpid(kid, &st, 0);
    // Ignoring SIGTTIN turns the read into EIO.
    kid = fork();
    if (kid == 0) {
      setpgid(0, 0);
      signal(SIGTTIN, SIG_IGN);
      char c;
      ssize_t n = read(p.replica.get(), &c, 1);
      _exit(n == -1 && errno == EIO ? 0 : 1);
    }
    setpgid(kid, kid);
    CHILD_CHECK(waitpid(kid, &st, 0) == kid);
    CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST(PtyTest, ClosingTheMasterHangsUpTheSession) {
  Pty p = OpenPty();
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  FileDescriptor rr(ready[0]), rw(ready[1]);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGHUP);
  sigset_t old;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &s, &old), SyscallSucceeds());
  pid_t kid = ForkSessionOn(p, rw.get(), [&] {
    close(p.master.get());  // only the parent's master stays open
    struct timespec to = {10, 0};
    CHILD_CHECK(sigtimedwait(&s, nullptr, &to) == SIGHUP);
    char c;
    CHILD_CHECK(read(p.replica.get(), &c, 1) == 0);
    CHILD_CHECK(write(p.replica.get(), "x", 1) == -1 && errno == EIO);
    return 0;
  });
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ASSERT_GT(kid, 0);
  AwaitReady(rr.get());
  p.master.reset();
  EXPECT_TRUE(ExitedWith(WaitForStatus(kid), 0));
}

}  // namespace
}  // namespace palisade::testing
