// prctl(2) basics: PR_SET_NAME/PR_GET_NAME (and /proc/<pid>/comm),
// PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE,
// PR_SET_NO_NEW_PRIVS, PR_SET_KEEPCAPS and errors. (The capability options
// are in capabilities_test.cc.)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

TEST(PrctlTest, NameIsTruncatedToFifteenBytes) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(prctl(PR_SET_NAME, "a-very-long-thread-name") == 0);
    char name[32];
    memset(name, 'x', sizeof(name));
    CHILD_CHECK(prctl(PR_GET_NAME, name) == 0);
    CHILD_CHECK(strcmp(name, "a-very-long-thr") == 0);
    // /proc/self/comm shows the same name.
    std::string comm = ReadFileOrDie("/proc/self/comm");
    CHILD_CHECK(comm == "a-very-long-thr\n");
    // Writing comm changes the name too.
    WriteFileOrDie("/proc/self/comm", "viaproc");
    CHILD_CHECK(prctl(PR_GET_NAME, name) == 0);
    CHILD_CHECK(strcmp(name, "viaproc") == 0);
    return 0;
  }), 0));
}

TEST(PrctlTest, CommWriteTakesFifteenBytesAsWritten) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    int fd = open("/proc/self/comm", O_WRONLY);
    CHILD_CHECK(fd >= 0);
    // The whole write counts as written; the name is its first 15 bytes,
    // a trailing newline included.
    CHILD_CHECK(write(fd, "0123456789abcdefghij", 20) == 20);
    char name[32] = {};
    CHILD_CHECK(prctl(PR_GET_NAME, name) == 0);
    CHILD_CHECK(strcmp(name, "0123456789abcde") == 0);
    CHILD_CHECK(write(fd, "abc\n", 4) == 4);
    CHILD_CHECK(prctl(PR_GET_NAME, name) == 0);
    CHILD_CHECK(strcmp(name, "abc\n") == 0);
    errno = 0;
    CHILD_CHECK(write(fd, BadPointer(), 3) == -1 && errno == EFAULT);
    close(fd);
    return 0;
  }), 0));
}

TEST(PrctlTest, CommOfAnotherThreadOfTheProcess) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> renamed{false};
    char seen[32] = {};
    std::thread th([&] {
      tid = static_cast<pid_t>(syscall(SYS_gettid));
      while (!renamed) usleep(1000);
      prctl(PR_GET_NAME, seen);
    });
    while (tid == 0) usleep(1000);
    std::string path = "/proc/self/task/" + std::to_string(tid.load()) + "/comm";
    WriteFileOrDie(path, "worker");
    renamed = true;
    th.join();
    CHILD_CHECK(strcmp(seen, "worker") == 0);
    // Only that thread was renamed.
    char mine[32] = {};
    CHILD_CHECK(prctl(PR_GET_NAME, mine) == 0);
    CHILD_CHECK(strcmp(mine, "worker") != 0);
    return 0;
  }), 0));
}

TEST(PrctlTest, CommOfAnotherProcessIsEinval) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    close(p[1]);
    char c;
    (void)read(p[0], &c, 1);  // until the parent closes its end
    return 0;
  });
  ASSERT_GT(pid, 0);
  int fd = open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  EXPECT_THAT(write(fd, "other", 5), SyscallFailsWithErrno(EINVAL));
  close(fd);
  close(p[1]);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  close(p[0]);
}

TEST(PrctlTest, NameBadPointerIsEfault) {
  EXPECT_THAT(prctl(PR_SET_NAME, BadPointer()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(prctl(PR_GET_NAME, BadPointer()), SyscallFailsWithErrno(EFAULT));
}

TEST(PrctlTest, PdeathsigIsDeliveredWhenParentDies) {
  // The middle process sets up a grandchild with PR_SET_PDEATHSIG =
  // SIGUSR1 (handled: it writes to a pipe), then exits.
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    int ready[2];
    CHILD_CHECK(pipe(ready) == 0);
    pid_t g = fork();
    if (g == 0) {
      close(p[0]);
      sigset_t s;
      sigemptyset(&s);
      sigaddset(&s, SIGUSR1);
      sigprocmask(SIG_BLOCK, &s, nullptr);
      if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) _exit(1);
      int got = -1;
      if (prctl(PR_GET_PDEATHSIG, &got) != 0 || got != SIGUSR1) _exit(2);
      (void)write(ready[1], "r", 1);
      struct timespec t = {20, 0};
      int sig = sigtimedwait(&s, nullptr, &t);
      char c = sig == SIGUSR1 ? 'y' : 'n';
      (void)write(p[1], &c, 1);
      _exit(0);
    }
    char c;
    CHILD_CHECK(read(ready[0], &c, 1) == 1);
    return 0;  // dying now sends SIGUSR1 to the grandchild
  }), 0));
  close(p[1]);
  char c = 0;
  EXPECT_THAT(read(p[0], &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'y');
  close(p[0]);
}

TEST(PrctlTest, PdeathsigIsClearedInForkChild) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(prctl(PR_SET_PDEATHSIG, SIGTERM) == 0);
    pid_t c = fork();
    if (c == 0) {
      int got = -1;
      prctl(PR_GET_PDEATHSIG, &got);
      _exit(got == 0 ? 0 : 1);
    }
    int st;
    CHILD_CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_PDEATHSIG, 200) == -1 && errno == EINVAL);
    return 0;
  }), 0));
}

TEST(PrctlTest, ChildSubreaperAdoptsOrphans) {
  // A subreaper "will become the parent of orphaned descendants".
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    int got = -1;
    CHILD_CHECK(prctl(PR_GET_CHILD_SUBREAPER, &got) == 0 && got == 1);
    const pid_t me = getpid();
    int p[2];
    CHILD_CHECK(pipe(p) == 0);
    pid_t mid = fork();
    if (mid == 0) {
      pid_t g = fork();
      if (g == 0) {
        close(p[0]);
        // Wait until orphaned, then report the new parent.
        for (int i = 0; i < 2000 && getppid() != me; i++) usleep(5000);
        pid_t pp = getppid();
        (void)write(p[1], &pp, sizeof(pp));
        _exit(5);
      }
      _exit(0);
    }
    close(p[1]);
    int st;
    CHILD_CHECK(waitpid(mid, &st, 0) == mid);
    pid_t pp = 0;
    CHILD_CHECK(read(p[0], &pp, sizeof(pp)) == sizeof(pp));
    CHILD_CHECK(pp == me);
    // The orphan is now our child: we can reap it.
    pid_t r = wait(&st);
    CHILD_CHECK(r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5);
    return 0;
  }), 0));
}

TEST(PrctlTest, DumpableFlag) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(prctl(PR_GET_DUMPABLE) == 1);
    CHILD_CHECK(prctl(PR_SET_DUMPABLE, 0) == 0);
    CHILD_CHECK(prctl(PR_GET_DUMPABLE) == 0);
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_DUMPABLE, 2) == -1 && errno == EINVAL);
    CHILD_CHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
    return 0;
  }), 0));
}

TEST(PrctlTest, NoNewPrivsIsOneWay) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    errno = 0;
    // "EINVAL option is PR_SET_NO_NEW_PRIVS and arg2 is not equal to 1".
    CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == -1 && errno == EINVAL);
    pid_t c = fork();
    if (c == 0) _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
    int st;
    CHILD_CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 0);
    return 0;
  }), 0));
}

TEST(PrctlTest, KeepcapsFlag) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(prctl(PR_GET_KEEPCAPS) == 0);
    CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 1) == 0);
    CHILD_CHECK(prctl(PR_GET_KEEPCAPS) == 1);
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 5) == -1 && errno == EINVAL);
    return 0;
  }), 0));
}

TEST(PrctlTest, UnknownOptionIsEinval) {
  EXPECT_THAT(prctl(0x7fff1234, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(PrctlTest, CapbsetRead) {
  // PR_CAPBSET_READ: 1 if the capability is in the bounding set, EINVAL
  // for a capability the kernel does not know.
  int r = prctl(PR_CAPBSET_READ, 0 /* CAP_CHOWN */, 0, 0, 0);
  EXPECT_TRUE(r == 0 || r == 1) << r;
  EXPECT_THAT(prctl(PR_CAPBSET_READ, 1000, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
