// Process groups and sessions, from setpgid(2), getsid(2), setsid(2) and
// credentials(7).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

TEST(SessionTest, GettersAgree) {
  EXPECT_EQ(getpgrp(), getpgid(0));
  EXPECT_THAT(getpgid(getpid()), SyscallSucceedsWithValue(getpgrp()));
  EXPECT_THAT(getsid(0), SyscallSucceeds());
  EXPECT_EQ(getsid(0), getsid(getpid()));
  EXPECT_THAT(getpgid(999999), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(getsid(999999), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(getpgid(-1), SyscallFailsWithErrno(ESRCH));
}

TEST(SessionTest, ChildInheritsGroupAndSession) {
  const pid_t pg = getpgrp(), sid = getsid(0);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(getpgrp() == pg);
    CHILD_CHECK(getsid(0) == sid);
    return 0;
  }), 0));
}

TEST(SessionTest, SetsidMakesNewSessionAndGroup) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    pid_t sid = setsid();
    CHILD_CHECK(sid == getpid());
    CHILD_CHECK(getsid(0) == getpid());
    CHILD_CHECK(getpgrp() == getpid());
    // "EPERM The process group ID of any process equals the PID of the
    // calling process" -- a group leader cannot call setsid again.
    errno = 0;
    CHILD_CHECK(setsid() == -1 && errno == EPERM);
    // A session leader cannot change its process group.
    errno = 0;
    CHILD_CHECK(setpgid(0, 0) == 0 || errno == EPERM);
    return 0;
  }), 0));
}

TEST(SessionTest, SetpgidCreatesAndJoinsGroups) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setpgid(0, 0) == 0);
    CHILD_CHECK(getpgrp() == getpid());
    pid_t leader = getpid();
    pid_t c = fork();
    if (c == 0) {
      // Child starts in the leader's group; may move itself to its own.
      if (getpgrp() != leader) _exit(1);
      if (setpgid(0, 0) != 0) _exit(2);
      if (getpgrp() != getpid()) _exit(3);
      // And back into its parent's group (same session).
      if (setpgid(0, leader) != 0) _exit(4);
      if (getpgrp() != leader) _exit(5);
      _exit(0);
    }
    int st;
    CHILD_CHECK(waitpid(c, &st, 0) == c);
    CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
  }), 0));
}

TEST(SessionTest, SetpgidErrors) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setpgid(0, 0) == 0);
    errno = 0;
    // "EINVAL pgid is less than 0."
    CHILD_CHECK(setpgid(0, -1) == -1 && errno == EINVAL);
    // "ESRCH ... pid is not the calling process and not a child of the
    // calling process."
    errno = 0;
    CHILD_CHECK(setpgid(getppid(), getppid()) == -1 && (errno == ESRCH || errno == EPERM));
    errno = 0;
    CHILD_CHECK(setpgid(999999, 0) == -1 && errno == ESRCH);
    // "EPERM An attempt was made to move a process into a process group in
    // a different session, or ... pgid does not match any process".
    errno = 0;
    CHILD_CHECK(setpgid(0, 999999) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST(SessionTest, CannotChangeGroupOfChildInOtherSession) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    int p[2];
    CHILD_CHECK(pipe(p) == 0);
    pid_t c = fork();
    if (c == 0) {
      setsid();
      char ch = 's';
      (void)write(p[1], &ch, 1);
      pause();
      _exit(0);
    }
    char ch;
    CHILD_CHECK(read(p[0], &ch, 1) == 1);
    // "EPERM An attempt was made to change the process group ID of a
    // session leader" / a child in another session.
    errno = 0;
    CHILD_CHECK(setpgid(c, getpgrp()) == -1 && errno == EPERM);
    kill(c, SIGKILL);
    waitpid(c, nullptr, 0);
    return 0;
  }), 0));
}

TEST(SessionTest, CannotChangeGroupOfChildAfterExec) {
  // "EACCES An attempt was made to change the process group ID of one of
  // the children of the calling process and the child had already
  // performed an execve(2)."
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    int p[2];
    CHILD_CHECK(pipe2(p, O_CLOEXEC) == 0);
    pid_t c = fork();
    if (c == 0) {
      execl("/bin/sleep", "sleep", "5", nullptr);
      _exit(127);
    }
    close(p[1]);
    char ch;
    // The pipe's write end closes at exec (O_CLOEXEC): EOF means exec done.
    CHILD_CHECK(read(p[0], &ch, 1) == 0);
    errno = 0;
    int r = setpgid(c, c);
    int err = errno;
    kill(c, SIGKILL);
    waitpid(c, nullptr, 0);
    CHILD_CHECK(r == -1 && err == EACCES);
    return 0;
  }), 0));
}

TEST(SessionTest, OrphanedGroupStillExistsWhileMembersLive) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setpgid(0, 0) == 0);
    pid_t pg = getpgrp();
    pid_t c = fork();
    if (c == 0) {
      pause();
      _exit(0);
    }
    CHILD_CHECK(getpgid(c) == pg);
    CHILD_CHECK(kill(-pg, 0) == 0);
    kill(c, SIGKILL);
    waitpid(c, nullptr, 0);
    return 0;
  }), 0));
}

}  // namespace
}  // namespace palisade::testing
