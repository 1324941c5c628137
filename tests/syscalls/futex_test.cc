// futex(2): FUTEX_WAIT/FUTEX_WAKE (private and shared), value mismatch,
// timeouts, bitsets, requeue, interruption and argument errors.
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/time_util.h"

namespace palisade::testing {
namespace {

long Futex(void* uaddr, int op, uint32_t val, const struct timespec* timeout = nullptr,
           void* uaddr2 = nullptr, uint32_t val3 = 0) {
  return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

// Waits until *word != 0, using FUTEX_WAIT(op) between checks.
void WaitUntilNonzero(std::atomic<uint32_t>* word, int op) {
  while (word->load() == 0) Futex(word, op, 0);
}

class FutexTest : public ::testing::TestWithParam<bool> {
 protected:
  int Op(int base) const { return GetParam() ? (base | FUTEX_PRIVATE_FLAG) : base; }
};

TEST_P(FutexTest, WaitWithWrongValueIsEagain) {
  std::atomic<uint32_t> word{1};
  // "EAGAIN (FUTEX_WAIT ...) The value pointed to by uaddr was not equal to
  // the expected value val at the time of the call."
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAIT), 0), SyscallFailsWithErrno(EAGAIN));
}

TEST_P(FutexTest, WakeWithoutWaitersWakesNobody) {
  std::atomic<uint32_t> word{0};
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAKE), INT_MAX), SyscallSucceedsWithValue(0));
}

TEST_P(FutexTest, WaitTimesOut) {
  std::atomic<uint32_t> word{0};
  struct timespec ts = {0, 100 * 1000 * 1000};
  int64_t start = MonotonicNowNs();
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAIT), 0, &ts), SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_GE(MonotonicNowNs() - start, 95 * kMs);
}

TEST_P(FutexTest, WakeReleasesWaitingThreads) {
  std::atomic<uint32_t> word{0};
  std::atomic<int> woken{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; i++) {
    waiters.emplace_back([&] {
      WaitUntilNonzero(&word, Op(FUTEX_WAIT));
      woken++;
    });
  }
  usleep(50 * 1000);  // Let them block (not required for correctness).
  word.store(1);
  long total = 0;
  // Wake until everyone is through; each wake reports how many it woke.
  for (int i = 0; i < 60000 && woken < 3; i++) {
    long n = Futex(&word, Op(FUTEX_WAKE), INT_MAX);
    EXPECT_THAT(n, SyscallSucceeds());
    total += n;
    usleep(1000);
  }
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woken, 3);
  EXPECT_LE(total, 3);
}

TEST_P(FutexTest, WakeCountLimitsWakers) {
  std::atomic<uint32_t> word{0};
  std::atomic<int> through{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 2; i++) {
    waiters.emplace_back([&] {
      // A single FUTEX_WAIT; a spurious 0-return counts as a wake too.
      while (word.load() == 0) {
        if (Futex(&word, Op(FUTEX_WAIT), 0) == 0) break;
      }
      through++;
    });
  }
  // Wake one at a time: "val specifies ... the maximum number of waiters
  // to wake", so no call may report more than one.
  for (int i = 0; i < 60000 && through < 2; i++) {
    long n = Futex(&word, Op(FUTEX_WAKE), 1);
    EXPECT_THAT(n, SyscallSucceedsWithValue(::testing::Le(1)));
    if (n < 0 || n > 1) break;
    usleep(1000);
  }
  word.store(1);
  Futex(&word, Op(FUTEX_WAKE), INT_MAX);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(through, 2);
}

TEST_P(FutexTest, WaitBitsetAbsoluteTimeout) {
  std::atomic<uint32_t> word{0};
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_nsec += 50 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout.
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAIT_BITSET), 0, &deadline, nullptr, FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_GE(MonotonicNowNs(), ToNs(deadline));
  // "EINVAL (FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET) The bit mask supplied in
  // val3 is zero."
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAIT_BITSET), 0, &deadline, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAKE_BITSET), 1, nullptr, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST_P(FutexTest, WakeBitsetOnlyWakesMatchingWaiters) {
  std::atomic<uint32_t> word{0};
  std::atomic<int> done{0};
  std::thread waiter([&] {
    while (word.load() == 0) {
      Futex(&word, Op(FUTEX_WAIT_BITSET), 0, nullptr, nullptr, 0x1);
    }
    done = 1;
  });
  usleep(50 * 1000);
  // A wake for bit 0x2 must not wake a waiter on bit 0x1.
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAKE_BITSET), INT_MAX, nullptr, nullptr, 0x2),
              SyscallSucceedsWithValue(0));
  word.store(1);
  for (int i = 0; i < 60000 && !done; i++) {
    Futex(&word, Op(FUTEX_WAKE_BITSET), INT_MAX, nullptr, nullptr, 0x1);
    usleep(1000);
  }
  waiter.join();
  EXPECT_EQ(done, 1);
}

TEST_P(FutexTest, CmpRequeueChecksValue) {
  std::atomic<uint32_t> a{5}, b{0};
  // "EAGAIN (FUTEX_CMP_REQUEUE) The value pointed to by uaddr is not equal
  // to the expected value val3."
  EXPECT_THAT(Futex(&a, Op(FUTEX_CMP_REQUEUE), 1, reinterpret_cast<struct timespec*>(1), &b, 6),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Futex(&a, Op(FUTEX_CMP_REQUEUE), 1, reinterpret_cast<struct timespec*>(1), &b, 5),
              SyscallSucceedsWithValue(0));
}

TEST_P(FutexTest, ArgumentErrors) {
  alignas(8) char buf[8] = {};
  struct timespec bad = {0, 1000000000};
  std::atomic<uint32_t> word{0};
  // "EINVAL uaddr ... does not point to a valid ... aligned" integer.
  EXPECT_THAT(Futex(buf + 1, Op(FUTEX_WAIT), 0), SyscallFailsWithErrno(EINVAL));
  // "EINVAL ... timeout argument is invalid (tv_nsec ... over 999999999)".
  EXPECT_THAT(Futex(&word, Op(FUTEX_WAIT), 0, &bad), SyscallFailsWithErrno(EINVAL));
  // "ENOSYS Invalid operation specified in futex_op."
  EXPECT_THAT(Futex(&word, Op(100), 0), SyscallFailsWithErrno(ENOSYS));
  // "EFAULT A required pointer argument ... did not point to a valid
  // user-space address."
  EXPECT_THAT(Futex(BadPointer(), Op(FUTEX_WAIT), 0), SyscallFailsWithErrno(EFAULT));
}

std::atomic<int> g_signals{0};
void OnSignal(int) { g_signals++; }

TEST_P(FutexTest, WaitInterruptedBySignalIsEintr) {
  ScopedSigaction act(SIGALRM, OnSignal, 0);  // No SA_RESTART.
  std::atomic<uint32_t> word{0};
  g_signals = 0;
  SetRealTimer(50 * 1000, 100 * 1000);  // Repeats until the wait is hit.
  long rc = Futex(&word, Op(FUTEX_WAIT), 0);
  SetRealTimer(0, 0);
  EXPECT_THAT(rc, SyscallFailsWithErrno(EINTR));
  EXPECT_GE(g_signals, 1);
}

INSTANTIATE_TEST_SUITE_P(PrivateAndShared, FutexTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Private" : "Shared";
                         });

TEST(FutexSharedTest, WakeAcrossProcessesThroughSharedMapping) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_THAT(p, SyscallSucceeds());
  auto* word = static_cast<std::atomic<uint32_t>*>(p);
  word->store(0);
  pid_t pid = ForkChild([&] {
    // Without FUTEX_PRIVATE_FLAG the key is the shared page, not the mm.
    WaitUntilNonzero(word, FUTEX_WAIT);
    return word->load() == 7 ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  usleep(50 * 1000);
  word->store(7);
  EXPECT_THAT(Futex(word, FUTEX_WAKE, INT_MAX), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  munmap(p, 4096);
}

}  // namespace
}  // namespace palisade::testing
