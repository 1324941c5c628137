// fork(2), vfork(2), wait4(2)/waitpid(2)/waitid(2): exit statuses, death by
// signal, WNOHANG, stop/continue reporting and ECHILD.
//
// Every child is reaped by the test that made it: in the sandbox this
// process is PID 1, and a stray zombie would be reaped by the next
// wait(-1) and break its expectations.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

// A child that waits until the returned pipe's write end is closed, then
// exits with `code`.
struct GatedChild {
  pid_t pid = -1;
  FileDescriptor gate;  // Close to release the child.
};

GatedChild StartGatedChild(int code) {
  int fds[2];
  GatedChild c;
  if (pipe(fds) != 0) return c;
  c.pid = ForkChild([&] {
    close(fds[1]);
    char b;
    while (read(fds[0], &b, 1) < 0 && errno == EINTR) {
    }
    return code;
  });
  close(fds[0]);
  c.gate.reset(fds[1]);
  return c;
}

TEST(ForkWaitTest, ForkReturnsZeroInChildAndPidInParent) {
  pid_t parent = getpid();
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(fds[0]);
    pid_t me = getpid();
    bool ok = getppid() == parent && me != parent;
    (void)!write(fds[1], &me, sizeof(me));
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  pid_t reported = 0;
  EXPECT_THAT(read(fds[0], &reported, sizeof(reported)), SyscallSucceedsWithValue(4));
  close(fds[0]);
  EXPECT_EQ(reported, pid);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
}

TEST(ForkWaitTest, ExitStatusIsLowEightBits) {
  for (int code : {0, 1, 42, 255, 256 + 3}) {
    int status = RunInChild([code] { return code; });
    EXPECT_TRUE(ExitedWith(status, code & 0xff)) << "exit(" << code << ")";
  }
}

TEST(ForkWaitTest, DeathBySignalIsReported) {
  for (int sig : {SIGKILL, SIGTERM, SIGUSR1, SIGSEGV}) {
    int status = RunInChild([sig] {
      signal(sig, SIG_DFL);
      raise(sig);
      return 100;
    });
    EXPECT_TRUE(KilledBy(status, sig)) << strsignal(sig);
  }
}

TEST(ForkWaitTest, ChildGetsCopyOfMemory) {
  int value = 1;
  int status = RunInChild([&] {
    CHILD_CHECK(value == 1);
    value = 2;
    return value;
  });
  EXPECT_TRUE(ExitedWith(status, 2));
  EXPECT_EQ(value, 1);
}

TEST(ForkWaitTest, ChildSharesOpenFileDescriptions) {
  TempDir dir;
  std::string f = dir.CreateFile("f", "0123456789");
  int fd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  int status = RunInChild([&] { return lseek(fd, 6, SEEK_SET) == 6 ? 0 : 1; });
  EXPECT_TRUE(ExitedWith(status, 0));
  // The offset lives in the shared open file description.
  EXPECT_THAT(lseek(fd, 0, SEEK_CUR), SyscallSucceedsWithValue(6));
}

TEST(ForkWaitTest, WnohangReturnsZeroWhileChildRuns) {
  GatedChild c = StartGatedChild(7);
  ASSERT_GT(c.pid, 0);
  int status = 0;
  EXPECT_THAT(waitpid(c.pid, &status, WNOHANG), SyscallSucceedsWithValue(0));
  // A zombie-to-be is still a process: kill(pid, 0) works.
  EXPECT_THAT(kill(c.pid, 0), SyscallSucceeds());
  c.gate.reset();
  EXPECT_TRUE(ExitedWith(WaitForStatus(c.pid), 7));
  // Reaped: gone for good.
  EXPECT_THAT(waitpid(c.pid, &status, WNOHANG), SyscallFailsWithErrno(ECHILD));
}

TEST(ForkWaitTest, EchildWithoutChildren) {
  int status;
  EXPECT_THAT(waitpid(-1, &status, 0), SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(wait(&status), SyscallFailsWithErrno(ECHILD));
  // Our own pid is not our child.
  EXPECT_THAT(waitpid(getpid(), &status, 0), SyscallFailsWithErrno(ECHILD));
  siginfo_t info;
  EXPECT_THAT(waitid(P_ALL, 0, &info, WEXITED), SyscallFailsWithErrno(ECHILD));
}

TEST(ForkWaitTest, InvalidOptionsAreEinval) {
  int status;
  EXPECT_THAT(waitpid(-1, &status, 0x00100000), SyscallFailsWithErrno(EINVAL));
  siginfo_t info;
  // waitid needs at least one of WEXITED, WSTOPPED, WCONTINUED.
  EXPECT_THAT(waitid(P_ALL, 0, &info, WNOHANG), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(waitid(static_cast<idtype_t>(42), 0, &info, WEXITED), SyscallFailsWithErrno(EINVAL));
}

TEST(ForkWaitTest, Wait4FillsRusage) {
  pid_t pid = ForkChild([] {
    volatile unsigned x = 0;
    for (unsigned i = 0; i < 1000000; i++) x = x + i;
    return 5;
  });
  ASSERT_GT(pid, 0);
  int status = 0;
  struct rusage ru;
  memset(&ru, 0xff, sizeof(ru));
  ASSERT_THAT(wait4(pid, &status, 0, &ru), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(ExitedWith(status, 5));
  EXPECT_GE(ru.ru_utime.tv_sec, 0);
  EXPECT_LT(ru.ru_utime.tv_usec, 1000000);
  EXPECT_GE(ru.ru_maxrss, 0);
}

TEST(ForkWaitTest, WaitidReportsExit) {
  pid_t pid = ForkChild([] { return 9; });
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_signo, SIGCHLD);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 9);
  // "WNOWAIT Leave the child in a waitable state".
  info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_THAT(waitid(P_PID, pid, &info, WEXITED), SyscallFailsWithErrno(ECHILD));
}

TEST(ForkWaitTest, WaitidReportsKill) {
  GatedChild c = StartGatedChild(0);
  ASSERT_GT(c.pid, 0);
  ASSERT_THAT(kill(c.pid, SIGKILL), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, c.pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGKILL);
}

TEST(ForkWaitTest, StopAndContinueAreReported) {
  GatedChild c = StartGatedChild(4);
  ASSERT_GT(c.pid, 0);
  ASSERT_THAT(kill(c.pid, SIGSTOP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(c.pid, &status, WUNTRACED), SyscallSucceedsWithValue(c.pid));
  EXPECT_TRUE(WIFSTOPPED(status)) << DescribeWaitStatus(status);
  EXPECT_EQ(WSTOPSIG(status), SIGSTOP);
  ASSERT_THAT(kill(c.pid, SIGCONT), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, c.pid, &info, WCONTINUED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_CONTINUED);
  c.gate.reset();
  EXPECT_TRUE(ExitedWith(WaitForStatus(c.pid), 4));
}

TEST(ForkWaitTest, SignalsRightAfterForkReachAChildThatHasNotRunYet) {
  // A stop sent the moment fork returns may find the child before it ever
  // ran; it must still stop, continue and finish (a sentry once lost such
  // a child's first run).
  for (int i = 0; i < 30; i++) {
    GatedChild c = StartGatedChild(5);
    ASSERT_GT(c.pid, 0);
    ASSERT_THAT(kill(c.pid, SIGSTOP), SyscallSucceeds());
    int status = 0;
    ASSERT_THAT(waitpid(c.pid, &status, WUNTRACED), SyscallSucceedsWithValue(c.pid));
    ASSERT_TRUE(WIFSTOPPED(status)) << DescribeWaitStatus(status);
    ASSERT_THAT(kill(c.pid, SIGCONT), SyscallSucceeds());
    c.gate.reset();
    ASSERT_TRUE(ExitedWith(WaitForStatus(c.pid), 5)) << "iteration " << i;
  }
}

TEST(ForkWaitTest, WaitAnyChildCollectsAll) {
  std::map<pid_t, int> expected;
  for (int i = 0; i < 8; i++) {
    pid_t pid = ForkChild([i] { return 10 + i; });
    ASSERT_GT(pid, 0);
    expected[pid] = 10 + i;
  }
  for (int i = 0; i < 8; i++) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    ASSERT_THAT(pid, SyscallSucceeds());
    ASSERT_EQ(expected.count(pid), 1u) << "unexpected child " << pid;
    EXPECT_TRUE(ExitedWith(status, expected[pid]));
    expected.erase(pid);
  }
  int status;
  EXPECT_THAT(waitpid(-1, &status, WNOHANG), SyscallFailsWithErrno(ECHILD));
}

TEST(ForkWaitTest, WaitForProcessGroup) {
  pid_t pid = ForkChild([] { return 3; });
  ASSERT_GT(pid, 0);
  int status = 0;
  // pid 0: "wait for any child process whose process group ID is equal to
  // that of the calling process".
  ASSERT_THAT(waitpid(0, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(ExitedWith(status, 3));
}

TEST(ForkWaitTest, VforkChildRunsFirstAndSharesMemory) {
  volatile int shared = 0;
  pid_t pid = vfork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // "the calling thread is suspended until the child terminates".
    shared = 1;
    _exit(6);
  }
  EXPECT_EQ(shared, 1);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 6));
}

TEST(ForkWaitTest, SharedMappingSurvivesFork) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_THAT(p, SyscallSucceeds());
  auto* counter = static_cast<volatile int*>(p);
  *counter = 0;
  int status = RunInChild([&] {
    *counter = 77;
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  EXPECT_EQ(*counter, 77);
  munmap(p, 4096);
}

}  // namespace
}  // namespace palisade::testing
