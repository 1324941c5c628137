// Helpers for tests that fork: run a function in a child and judge how it
// ended.
//
// gtest assertions do not work in a forked child (the failure would be
// recorded in the child's copy of the test state and lost), so child code
// checks with CHILD_CHECK, which prints the failed condition and _exit(1)s,
// and returns its exit status. The parent then asserts on the wait status:
//
//   int status = RunInChild([&] {
//     CHILD_CHECK(getppid() == parent);
//     return 0;
//   });
//   EXPECT_TRUE(ExitedWith(status, 0));
//
// Inside the sandbox the test process is PID 1 of its namespace, and Linux
// lets PID 1 ignore default-action signals sent from inside, so every
// "dies of signal N" check happens in a forked child.
#ifndef PALISADE_TESTS_SYSCALLS_UTIL_CHILD_PROCESS_H_
#define PALISADE_TESTS_SYSCALLS_UTIL_CHILD_PROCESS_H_

#include <errno.h>
#include <sys/types.h>

#include <functional>
#include <string>

#include "gtest/gtest.h"

namespace palisade::testing {

// Forks; the child runs `fn` and _exit()s with its result. Returns the
// child's raw wait status, or -1 if fork or waitpid failed (printed).
int RunInChild(const std::function<int()>& fn);

// Forks; the child runs `fn` and _exit()s with its result. Returns the pid
// (the caller waits), or -1 if fork failed.
pid_t ForkChild(const std::function<int()>& fn);

// waitpid() retrying EINTR. Returns the raw status, or -1 on error.
int WaitForStatus(pid_t pid);

// "exited with 3", "killed by signal 9 (Killed)", "stopped by ...".
std::string DescribeWaitStatus(int status);

::testing::AssertionResult ExitedWith(int status, int code);
::testing::AssertionResult KilledBy(int status, int sig);

// Prints where and why a child check failed, then _exit(1).
[[noreturn]] void ChildCheckFailed(const char* file, int line, const char* cond, int err);

}  // namespace palisade::testing

// For code running in a forked child: exits the child with status 1 and a
// message (including errno) when `cond` is false.
#define CHILD_CHECK(cond)                                                   \
  do {                                                                      \
    if (!(cond)) {                                                          \
      ::palisade::testing::ChildCheckFailed(__FILE__, __LINE__, #cond, errno); \
    }                                                                       \
  } while (0)

#endif  // PALISADE_TESTS_SYSCALLS_UTIL_CHILD_PROCESS_H_
