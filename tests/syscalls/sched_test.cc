// Scheduling and resource calls: sched_getaffinity(2), getcpu(2),
// sched_getscheduler(2)/sched_getparam(2)/sched_setscheduler(2),
// sched_get_priority_max/min(2), sched_rr_get_interval(2),
// getpriority(2)/setpriority(2) and getrusage(2).
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

TEST(SchedTest, AffinityCoversOnlineCpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_THAT(sched_getaffinity(0, sizeof(set), &set), SyscallSucceeds());
  EXPECT_GE(CPU_COUNT(&set), 1);
  EXPECT_LE(CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_CONF));
  // The raw syscall returns the size of the kernel's mask in bytes.
  long r = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
  EXPECT_GT(r, 0);
  EXPECT_EQ(r % sizeof(long), 0);
  // "EINVAL ... cpusetsize is smaller than the size of the affinity mask
  // used by the kernel."
  unsigned char tiny[1];
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, 1, tiny), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sched_getaffinity(999999, sizeof(set), &set), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, sizeof(set), BadPointer()), SyscallFailsWithErrno(EFAULT));
}

TEST(SchedTest, SetaffinityToCurrentMaskSucceeds) {
  cpu_set_t set;
  ASSERT_THAT(sched_getaffinity(0, sizeof(set), &set), SyscallSucceeds());
  EXPECT_THAT(sched_setaffinity(0, sizeof(set), &set), SyscallSucceeds());
  cpu_set_t empty;
  CPU_ZERO(&empty);
  // "EINVAL The affinity bit mask mask contains no processors that are
  // currently physically on the system".
  EXPECT_THAT(sched_setaffinity(0, sizeof(empty), &empty), SyscallFailsWithErrno(EINVAL));
}

TEST(SchedTest, GetcpuReturnsCpuInAffinityMask) {
  unsigned cpu = 9999, node = 9999;
  ASSERT_THAT(syscall(SYS_getcpu, &cpu, &node, nullptr), SyscallSucceeds());
  EXPECT_LT(cpu, static_cast<unsigned>(CPU_SETSIZE));
  EXPECT_LT(node, 1024u);
  // Either pointer may be NULL.
  EXPECT_THAT(syscall(SYS_getcpu, nullptr, nullptr, nullptr), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_getcpu, BadPointer(), nullptr, nullptr), SyscallFailsWithErrno(EFAULT));
  EXPECT_GE(sched_getcpu(), 0);
}

TEST(SchedTest, DefaultPolicyIsOtherWithPriorityZero) {
  EXPECT_THAT(sched_getscheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
  struct sched_param p {};
  p.sched_priority = 55;
  ASSERT_THAT(sched_getparam(0, &p), SyscallSucceeds());
  EXPECT_EQ(p.sched_priority, 0);
  EXPECT_THAT(sched_getscheduler(-1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sched_getscheduler(999999), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(sched_getparam(0, nullptr), SyscallFailsWithErrno(EINVAL));
}

TEST(SchedTest, PriorityRanges) {
  EXPECT_THAT(sched_get_priority_max(SCHED_FIFO), SyscallSucceedsWithValue(99));
  EXPECT_THAT(sched_get_priority_min(SCHED_FIFO), SyscallSucceedsWithValue(1));
  EXPECT_THAT(sched_get_priority_max(SCHED_RR), SyscallSucceedsWithValue(99));
  EXPECT_THAT(sched_get_priority_min(SCHED_RR), SyscallSucceedsWithValue(1));
  EXPECT_THAT(sched_get_priority_max(SCHED_OTHER), SyscallSucceedsWithValue(0));
  EXPECT_THAT(sched_get_priority_min(SCHED_OTHER), SyscallSucceedsWithValue(0));
  EXPECT_THAT(sched_get_priority_max(SCHED_BATCH), SyscallSucceedsWithValue(0));
  EXPECT_THAT(sched_get_priority_max(SCHED_IDLE), SyscallSucceedsWithValue(0));
  EXPECT_THAT(sched_get_priority_max(42), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sched_get_priority_min(-1), SyscallFailsWithErrno(EINVAL));
}

TEST(SchedTest, RrIntervalIsNonNegative) {
  struct timespec ts {-1, -1};
  ASSERT_THAT(sched_rr_get_interval(0, &ts), SyscallSucceeds());
  EXPECT_GE(ts.tv_sec, 0);
  EXPECT_GE(ts.tv_nsec, 0);
  EXPECT_THAT(sched_rr_get_interval(999999, &ts), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(sched_rr_get_interval(-1, &ts), SyscallFailsWithErrno(EINVAL));
}

TEST(SchedTest, SetschedulerBatchAndBackInChild) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct sched_param p {};
    p.sched_priority = 0;
    CHILD_CHECK(sched_setscheduler(0, SCHED_BATCH, &p) == 0);
    CHILD_CHECK(sched_getscheduler(0) == SCHED_BATCH);
    CHILD_CHECK(sched_setscheduler(0, SCHED_OTHER, &p) == 0);
    CHILD_CHECK(sched_getscheduler(0) == SCHED_OTHER);
    // "EINVAL ... param does not make sense for the specified policy."
    p.sched_priority = 5;
    errno = 0;
    CHILD_CHECK(sched_setscheduler(0, SCHED_OTHER, &p) == -1 && errno == EINVAL);
    errno = 0;
    CHILD_CHECK(sched_setscheduler(0, 77, &p) == -1 && errno == EINVAL);
    p.sched_priority = 0;
    CHILD_CHECK(sched_setparam(0, &p) == 0);
    return 0;
  }), 0));
}

TEST(SchedTest, NiceValuesInChild) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    CHILD_CHECK(errno == 0);
    CHILD_CHECK(setpriority(PRIO_PROCESS, 0, prio + 5) == 0);
    errno = 0;
    CHILD_CHECK(getpriority(PRIO_PROCESS, 0) == prio + 5 && errno == 0);
    // nice(3) is relative. (Only ever raise the nice value: lowering it
    // needs CAP_SYS_NICE, which a container usually lacks.)
    errno = 0;
    CHILD_CHECK(nice(2) == prio + 7 && errno == 0);
    // Values outside [-20, 19] are clamped.
    CHILD_CHECK(setpriority(PRIO_PROCESS, 0, 100) == 0);
    CHILD_CHECK(getpriority(PRIO_PROCESS, 0) == 19);
    errno = 0;
    CHILD_CHECK(setpriority(42, 0, 0) == -1 && errno == EINVAL);
    errno = 0;
    CHILD_CHECK(getpriority(PRIO_PROCESS, 999999) == -1 && errno == ESRCH);
    return 0;
  }), 0));
}

TEST(SchedTest, RaisingPriorityNeedsPrivilege) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to drop privileges";
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    CHILD_CHECK(setpriority(PRIO_PROCESS, 0, 10) == 0);  // lowering is fine
    errno = 0;
    // "EACCES The caller attempted to set a lower nice value ... but did
    // not have the required privilege".
    CHILD_CHECK(setpriority(PRIO_PROCESS, 0, 0) == -1 && errno == EACCES);
    return 0;
  }), 0));
}

TEST(SchedTest, NiceIsInheritedByFork) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setpriority(PRIO_PROCESS, 0, 7) == 0);
    pid_t c = fork();
    if (c == 0) _exit(getpriority(PRIO_PROCESS, 0) == 7 ? 0 : 1);
    int st;
    CHILD_CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 0);
    return 0;
  }), 0));
}

TEST(SchedTest, YieldAlwaysSucceeds) { EXPECT_THAT(sched_yield(), SyscallSucceeds()); }

}  // namespace
}  // namespace palisade::testing
