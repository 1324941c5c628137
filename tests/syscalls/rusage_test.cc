// getrusage(2) and wait4(2)'s rusage: CPU time is CPU time (not wall
// time), a thread uses no more than its process, and a reaped child's
// usage is reported to its parent and added to RUSAGE_CHILDREN.
#include <errno.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

long Us(const struct timeval& tv) { return tv.tv_sec * 1000000L + tv.tv_usec; }

TEST(RusageTest, GetrusageSelfAndThread) {
  volatile uint64_t x = 0;
  for (uint64_t i = 0; i < 30000000; i++) x = x + i;
  struct rusage thread {}, self{};
  // Thread first: the process total read afterwards can only be larger.
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &thread), SyscallSucceeds());
  ASSERT_THAT(getrusage(RUSAGE_SELF, &self), SyscallSucceeds());
  EXPECT_GT(Us(self.ru_utime) + Us(self.ru_stime), 0);
  EXPECT_GE(Us(self.ru_utime) + Us(self.ru_stime), Us(thread.ru_utime) + Us(thread.ru_stime))
      << "a thread uses no more than its process";
  EXPECT_GT(self.ru_maxrss, 0);
  EXPECT_THAT(getrusage(42, &self), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getrusage(RUSAGE_SELF, static_cast<struct rusage*>(BadPointer())), SyscallFailsWithErrno(EFAULT));
}

TEST(RusageTest, SleepingUsesNoCpuTime) {
  struct rusage a {}, b{};
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &a), SyscallSucceeds());
  struct timespec req = {0, 300 * 1000 * 1000};
  nanosleep(&req, nullptr);
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &b), SyscallSucceeds());
  EXPECT_LT(Us(b.ru_utime) - Us(a.ru_utime), 200000) << "user time grew while sleeping";
}

TEST(RusageTest, Wait4ReturnsRusageOfChild) {
  pid_t pid = ForkChild([] {
    volatile uint64_t x = 0;
    for (uint64_t i = 0; i < 50000000; i++) x = x + i;
    return 0;
  });
  ASSERT_GT(pid, 0);
  int status;
  struct rusage ru {};
  ASSERT_THAT(wait4(pid, &status, 0, &ru), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_GT(Us(ru.ru_utime) + Us(ru.ru_stime), 0);
  EXPECT_GT(ru.ru_maxrss, 0);
  // RUSAGE_CHILDREN now includes the reaped child.
  struct rusage children {};
  ASSERT_THAT(getrusage(RUSAGE_CHILDREN, &children), SyscallSucceeds());
  EXPECT_GE(Us(children.ru_utime), Us(ru.ru_utime));
}

}  // namespace
}  // namespace palisade::testing
