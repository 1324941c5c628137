#include "tests/syscalls/util/child_process.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {

pid_t ForkChild(const std::function<int()>& fn) {
  std::fflush(nullptr);  // Do not let the child flush the parent's buffers.
  pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "fork: %s\n", ErrnoName(errno).c_str());
    return -1;
  }
  if (pid == 0) {
    int rc = fn();
    std::fflush(nullptr);
    _exit(rc);
  }
  return pid;
}

int WaitForStatus(pid_t pid) {
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, 0);
    if (r == pid) return status;
    if (r < 0 && errno == EINTR) continue;
    std::fprintf(stderr, "waitpid(%d): %s\n", pid, ErrnoName(errno).c_str());
    return -1;
  }
}

int RunInChild(const std::function<int()>& fn) {
  pid_t pid = ForkChild(fn);
  if (pid < 0) return -1;
  return WaitForStatus(pid);
}

std::string DescribeWaitStatus(int status) {
  if (status == -1) return "no status (fork or wait failed)";
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  if (WIFSTOPPED(status)) return "stopped by signal " + std::to_string(WSTOPSIG(status));
  if (WIFCONTINUED(status)) return "continued";
  return "unknown status " + std::to_string(status);
}

::testing::AssertionResult ExitedWith(int status, int code) {
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected exit with " << code << ", child " << DescribeWaitStatus(status);
}

::testing::AssertionResult KilledBy(int status, int sig) {
  if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected death by signal " << sig << ", child "
                                       << DescribeWaitStatus(status);
}

void ChildCheckFailed(const char* file, int line, const char* cond, int err) {
  std::fprintf(stderr, "%s:%d: CHILD_CHECK(%s) failed (errno: %s)\n", file, line, cond,
               ErrnoName(err).c_str());
  std::fflush(stderr);
  _exit(1);
}

}  // namespace palisade::testing
