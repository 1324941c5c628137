// clone(2) and threads (pthreads(7)): creation and join, thread ids,
// shared memory, futex-backed synchronisation through std::mutex and
// std::condition_variable, per-thread signals, and a raw clone(CLONE_VM).
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

void* ReturnArgPlusOne(void* arg) {
  return reinterpret_cast<void*>(reinterpret_cast<intptr_t>(arg) + 1);
}

TEST(CloneThreadsTest, CreateAndJoinPassesValues) {
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, nullptr, ReturnArgPlusOne, reinterpret_cast<void*>(41)), 0);
  void* ret = nullptr;
  ASSERT_EQ(pthread_join(t, &ret), 0);
  EXPECT_EQ(reinterpret_cast<intptr_t>(ret), 42);
}

TEST(CloneThreadsTest, ThreadsShareProcessIdButHaveOwnTids) {
  const pid_t pid = getpid();
  EXPECT_EQ(gettid(), pid) << "the main thread's tid is the process id";
  constexpr int kThreads = 8;
  std::mutex mu;
  std::set<pid_t> tids = {gettid()};
  std::vector<std::thread> threads;
  std::atomic<int> wrong_pid{0};
  for (int i = 0; i < kThreads; i++) {
    threads.emplace_back([&] {
      if (getpid() != pid) wrong_pid++;
      std::lock_guard<std::mutex> l(mu);
      tids.insert(gettid());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong_pid, 0);
  EXPECT_EQ(tids.size(), static_cast<size_t>(kThreads + 1)) << "thread ids must be unique";
}

TEST(CloneThreadsTest, AtomicCounterSeesAllIncrements) {
  std::atomic<long> counter{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20000; j++) counter.fetch_add(1, std::memory_order_relaxed);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.load(), 80000);
}

TEST(CloneThreadsTest, MutexProtectsPlainCounter) {
  std::mutex mu;
  long counter = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5000; j++) {
        std::lock_guard<std::mutex> l(mu);
        counter++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 20000);
}

TEST(CloneThreadsTest, ConditionVariablePingPong) {
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;  // even: main's turn, odd: the other thread's.
  constexpr int kRounds = 200;
  std::thread other([&] {
    for (int i = 0; i < kRounds; i++) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return turn % 2 == 1; });
      turn++;
      cv.notify_all();
    }
  });
  for (int i = 0; i < kRounds; i++) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return turn % 2 == 0; });
    turn++;
    cv.notify_all();
  }
  other.join();
  EXPECT_EQ(turn, 2 * kRounds);
}

TEST(CloneThreadsTest, ThreadLocalStorageIsPerThread) {
  static thread_local int tls = 5;
  tls = 1;
  int seen_in_thread = -1;
  std::thread t([&] {
    seen_in_thread = tls;  // Fresh copy, initialised to 5.
    tls = 99;
  });
  t.join();
  EXPECT_EQ(seen_in_thread, 5);
  EXPECT_EQ(tls, 1);
}

TEST(CloneThreadsTest, DetachedThreadRuns) {
  std::atomic<bool> ran{false};
  std::thread([&] { ran = true; }).detach();
  for (int i = 0; i < 6000 && !ran; i++) usleep(10 * 1000);
  EXPECT_TRUE(ran);
}

std::atomic<pid_t> g_handler_tid{0};
void RecordTid(int) { g_handler_tid = gettid(); }

TEST(CloneThreadsTest, TgkillTargetsOneThread) {
  ScopedSigaction act(SIGUSR1, RecordTid);
  std::atomic<pid_t> tid{0};
  std::atomic<bool> done{false};
  g_handler_tid = 0;
  std::thread t([&] {
    tid = gettid();
    while (g_handler_tid == 0) usleep(1000);
    done = true;
  });
  while (tid == 0) usleep(1000);
  // Block it here so only the target thread can take it.
  ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});
  long rc = syscall(SYS_tgkill, getpid(), tid.load(), SIGUSR1);
  EXPECT_THAT(rc, SyscallSucceeds());
  if (rc != 0) g_handler_tid = -1;  // Release the thread anyway.
  t.join();
  EXPECT_TRUE(done);
  EXPECT_EQ(g_handler_tid, tid);
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), 0x3fffffff, SIGUSR1), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), gettid(), 12345), SyscallFailsWithErrno(EINVAL));
}

TEST(CloneThreadsTest, ExitFromAnyThreadEndsProcess) {
  int status = RunInChild([] {
    std::thread t([] { _exit(5); });  // _exit is exit_group: all threads go.
    for (;;) pause();
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 5));
}

TEST(CloneThreadsTest, SchedCalls) {
  EXPECT_THAT(sched_yield(), SyscallSucceeds());
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_THAT(sched_getaffinity(0, sizeof(set), &set), SyscallSucceeds());
  EXPECT_GE(CPU_COUNT(&set), 1);
}

struct CloneArgs {
  std::atomic<int>* shared;
  int parent_pid;
};

int CloneChild(void* arg) {
  auto* a = static_cast<CloneArgs*>(arg);
  // A separate process (new pid) that shares our memory (CLONE_VM).
  a->shared->store(getpid() != a->parent_pid ? 1 : 2);
  return 0;
}

TEST(CloneThreadsTest, RawCloneWithSharedMemory) {
  constexpr size_t kStack = 256 * 1024;
  std::vector<char> stack(kStack);
  std::atomic<int> shared{0};
  CloneArgs args{&shared, getpid()};
  pid_t pid = clone(CloneChild, stack.data() + kStack, CLONE_VM | SIGCHLD, &args);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  EXPECT_EQ(shared.load(), 1);
}

TEST(CloneThreadsTest, CloneInvalidFlagCombinations) {
  constexpr size_t kStack = 64 * 1024;
  std::vector<char> stack(kStack);
  // "EINVAL CLONE_THREAD was specified in the flags mask, but CLONE_SIGHAND
  // was not." and "CLONE_SIGHAND was specified, but CLONE_VM was not."
  EXPECT_THAT(clone(CloneChild, stack.data() + kStack, CLONE_THREAD | CLONE_VM, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(clone(CloneChild, stack.data() + kStack, CLONE_SIGHAND, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
