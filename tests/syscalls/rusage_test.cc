// getrusage(2) and wait4(2)'s rusage: CPU time is CPU time (not wall
// time), a thread uses no more than its process, and a reaped child's
// usage is reported to its parent and added to RUSAGE_CHILDREN.
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/time_util.h"

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


int64_t ThreadCpuNs() {
  struct timespec ts {};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ToNs(ts);
}

// Spins until this thread used `ns` more CPU (gives up after 20 s of wall
// time on a machine too loaded to run it).
void SpinForCpu(int64_t ns) {
  const int64_t start = ThreadCpuNs(), give_up = MonotonicNowNs() + 20000 * kMs;
  volatile uint64_t x = 0;
  while (ThreadCpuNs() - start < ns && MonotonicNowNs() < give_up) {
    for (int i = 0; i < 10000; i++) x = x + i;
  }
}

TEST(RusageTest, SyscallsCostSystemTime) {
  // Time in the kernel serving syscalls is system time. Linux samples the
  // split at the tick, so keep calling until some shows (bounded).
  struct rusage a {}, b{};
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &a), SyscallSucceeds());
  const int64_t give_up = MonotonicNowNs() + 20000 * kMs;
  do {
    for (int i = 0; i < 10000; i++) syscall(SYS_getppid);
    ASSERT_THAT(getrusage(RUSAGE_THREAD, &b), SyscallSucceeds());
  } while (Us(b.ru_stime) == Us(a.ru_stime) && MonotonicNowNs() < give_up);
  EXPECT_GT(Us(b.ru_stime), Us(a.ru_stime));
}

TEST(RusageTest, ReapedGrandchildCountsForTheChild) {
  // The child only waits; its child does the work. wait4's rusage of the
  // child includes what it reaped (RUSAGE_CHILDREN of the child).
  pid_t pid = ForkChild([] {
    pid_t grandchild = ForkChild([] {
      SpinForCpu(100 * kMs);
      return 0;
    });
    CHILD_CHECK(grandchild > 0);
    int st;
    CHILD_CHECK(waitpid(grandchild, &st, 0) == grandchild);
    return 0;
  });
  ASSERT_GT(pid, 0);
  int status;
  struct rusage ru {};
  ASSERT_THAT(wait4(pid, &status, 0, &ru), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_GE(Us(ru.ru_utime) + Us(ru.ru_stime), 90000);
}

TEST(RusageTest, TimesReportsProcessAndChildren) {
  const long hz = sysconf(_SC_CLK_TCK);
  ASSERT_GT(hz, 0);
  struct tms before {}, after{};
  ASSERT_NE(times(&before), static_cast<clock_t>(-1));
  SpinForCpu(200 * kMs);
  pid_t pid = ForkChild([] {
    SpinForCpu(200 * kMs);
    return 0;
  });
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  ASSERT_NE(times(&after), static_cast<clock_t>(-1));
  // 200 ms is 20 ticks at 100 Hz; allow for rounding and tick sampling.
  EXPECT_GE((after.tms_utime + after.tms_stime) - (before.tms_utime + before.tms_stime), hz / 10);
  EXPECT_GE((after.tms_cutime + after.tms_cstime) - (before.tms_cutime + before.tms_cstime), hz / 10);
}

TEST(RusageTest, WaitidReportsRusageToo) {
  pid_t pid = ForkChild([] {
    SpinForCpu(50 * kMs);
    return 0;
  });
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  struct rusage ru {};
  // The raw syscall has a fifth argument glibc's waitid() does not expose.
  ASSERT_THAT(syscall(SYS_waitid, P_PID, pid, &info, WEXITED, &ru), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_GE(Us(ru.ru_utime) + Us(ru.ru_stime), 40000);
}

}  // namespace
}  // namespace palisade::testing
