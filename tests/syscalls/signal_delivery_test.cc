// Signal delivery details from sigaction(2), sigaltstack(2) and signal(7):
// SA_SIGINFO fields, SA_NODEFER and SA_RESETHAND, sa_mask, the alternate
// stack (SS_ONSTACK while on it, SS_DISABLE), nested handlers, and the
// ucontext a handler receives.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

std::atomic<int> g_depth{0}, g_max_depth{0}, g_calls{0};
siginfo_t g_info;
stack_t g_ss_in_handler;
uintptr_t g_handler_sp = 0;
sigset_t g_mask_in_handler;

void Record(int, siginfo_t* info, void*) {
  g_info = *info;
  g_calls++;
}

void Nested(int sig, siginfo_t*, void*) {
  int d = ++g_depth;
  if (d > g_max_depth) g_max_depth = d;
  g_calls++;
  if (g_calls < 3) raise(sig);  // re-raise from inside the handler
  --g_depth;
}

void OnAltStack(int, siginfo_t*, void*) {
  int local;
  g_handler_sp = reinterpret_cast<uintptr_t>(&local);
  sigaltstack(nullptr, &g_ss_in_handler);
  sigprocmask(SIG_BLOCK, nullptr, &g_mask_in_handler);
  g_calls++;
}

class SignalDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_depth = 0;
    g_max_depth = 0;
    g_calls = 0;
    memset(&g_info, 0, sizeof(g_info));
  }
};

TEST_F(SignalDeliveryTest, SiginfoFromKillCarriesSenderPidAndUid) {
  ScopedSigaction act(SIGUSR1, Record, SA_SIGINFO);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_info.si_signo, SIGUSR1);
  EXPECT_EQ(g_info.si_code, SI_USER);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_uid, getuid());
  EXPECT_EQ(g_info.si_errno, 0);
}

TEST_F(SignalDeliveryTest, SiginfoFromTgkillIsSiTkill) {
  ScopedSigaction act(SIGUSR1, Record, SA_SIGINFO);
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_info.si_code, SI_TKILL);
  EXPECT_EQ(g_info.si_pid, getpid());
}

TEST_F(SignalDeliveryTest, SiginfoFromSigqueueCarriesValue) {
  ScopedSigaction act(SIGRTMIN, Record, SA_SIGINFO);
  union sigval v;
  v.sival_int = 4242;
  ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, v), SyscallSucceeds());
  EXPECT_EQ(g_info.si_code, SI_QUEUE);
  EXPECT_EQ(g_info.si_value.sival_int, 4242);
  EXPECT_EQ(g_info.si_pid, getpid());
}

TEST_F(SignalDeliveryTest, RtSigqueueinfoCannotForgeKernelCodes) {
  // rt_sigqueueinfo(2): "EPERM ... the caller ... tried to send a signal
  // with si_code >= 0 (other than SI_TKILL) to another process" -- Linux
  // refuses si_code >= 0 and SI_TKILL for any process but the caller.
  pid_t child = ForkChild([] {
    pause();
    return 0;
  });
  ASSERT_GT(child, 0);
  siginfo_t si{};
  si.si_signo = SIGUSR2;
  si.si_code = SI_KERNEL;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, child, SIGUSR2, &si), SyscallFailsWithErrno(EPERM));
  si.si_code = SI_USER;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, child, SIGUSR2, &si), SyscallFailsWithErrno(EPERM));
  si.si_code = SI_TKILL;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, child, SIGUSR2, &si), SyscallFailsWithErrno(EPERM));
  kill(child, SIGKILL);
  WaitForStatus(child);
  ScopedSigaction act(SIGUSR2, Record, SA_SIGINFO);
  si.si_code = SI_QUEUE;
  si.si_value.sival_int = 7;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, &si), SyscallSucceeds());
  EXPECT_EQ(g_info.si_value.sival_int, 7);
  EXPECT_EQ(g_info.si_code, SI_QUEUE);
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, BadPointer()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, getpid(), 99, &si), SyscallFailsWithErrno(EINVAL));
}

TEST_F(SignalDeliveryTest, RtTgsigqueueinfoTargetsThread) {
  ScopedSigaction act(SIGUSR1, Record, SA_SIGINFO);
  siginfo_t si{};
  si.si_signo = SIGUSR1;
  si.si_code = SI_QUEUE;
  si.si_value.sival_int = 99;
  ASSERT_THAT(syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGUSR1, &si), SyscallSucceeds());
  EXPECT_EQ(g_calls, 1);
  EXPECT_EQ(g_info.si_value.sival_int, 99);
  EXPECT_THAT(syscall(SYS_rt_tgsigqueueinfo, getpid(), 999999, SIGUSR1, &si), SyscallFailsWithErrno(ESRCH));
}

TEST_F(SignalDeliveryTest, SignalIsBlockedInsideItsHandlerByDefault) {
  // Without SA_NODEFER the re-raised signal waits until the handler
  // returns, so handlers never nest.
  ScopedSigaction act(SIGUSR1, Nested, SA_SIGINFO);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_calls, 3);
  EXPECT_EQ(g_max_depth, 1);
}

TEST_F(SignalDeliveryTest, NodeferLetsHandlerNest) {
  ScopedSigaction act(SIGUSR1, Nested, SA_SIGINFO | SA_NODEFER);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_calls, 3);
  EXPECT_EQ(g_max_depth, 3);
}

TEST_F(SignalDeliveryTest, ResethandAlsoActsAsNodefer) {
  // SA_RESETHAND: "Restore the signal action to the default upon entry to
  // the signal handler"; the second raise from inside would kill, so run
  // it in a child.
  EXPECT_TRUE(KilledBy(RunInChild([] {
    struct sigaction sa {};
    sa.sa_sigaction = Nested;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    CHILD_CHECK(sigaction(SIGUSR1, &sa, nullptr) == 0);
    raise(SIGUSR1);
    return 0;
  }), SIGUSR1));
  struct sigaction sa {}, old{};
  sa.sa_sigaction = Record;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
  ASSERT_THAT(sigaction(SIGUSR2, &sa, nullptr), SyscallSucceeds());
  {
    // Keep the default action from killing us: block, check, unblock with
    // SIG_IGN set afterwards.
    ASSERT_THAT(raise(SIGUSR2), SyscallSucceeds());
  }
  EXPECT_EQ(g_calls, 1);
  ASSERT_THAT(sigaction(SIGUSR2, nullptr, &old), SyscallSucceeds());
  EXPECT_EQ(old.sa_handler, SIG_DFL);
}

TEST_F(SignalDeliveryTest, SaMaskIsAddedDuringHandler) {
  struct sigaction sa {};
  sa.sa_sigaction = OnAltStack;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaddset(&sa.sa_mask, SIGRTMIN + 3);
  struct sigaction old;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&g_mask_in_handler, SIGUSR1));
  EXPECT_TRUE(sigismember(&g_mask_in_handler, SIGUSR2));
  EXPECT_TRUE(sigismember(&g_mask_in_handler, SIGRTMIN + 3));
  EXPECT_FALSE(sigismember(&g_mask_in_handler, SIGTERM));
  // And the mask is restored afterwards.
  sigset_t now;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, nullptr, &now), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&now, SIGUSR2));
  sigaction(SIGUSR1, &old, nullptr);
}

TEST_F(SignalDeliveryTest, AltStackUsedOnlyWithSaOnstack) {
  std::vector<char> stack(64 * 1024);
  stack_t ss{};
  ss.ss_sp = stack.data();
  ss.ss_size = stack.size();
  ASSERT_THAT(sigaltstack(&ss, nullptr), SyscallSucceeds());
  const uintptr_t lo = reinterpret_cast<uintptr_t>(stack.data());
  const uintptr_t hi = lo + stack.size();
  {
    ScopedSigaction act(SIGUSR1, OnAltStack, SA_SIGINFO);
    ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
    EXPECT_FALSE(g_handler_sp >= lo && g_handler_sp < hi);
    EXPECT_FALSE(g_ss_in_handler.ss_flags & SS_ONSTACK);
  }
  {
    ScopedSigaction act(SIGUSR1, OnAltStack, SA_SIGINFO | SA_ONSTACK);
    ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
    EXPECT_TRUE(g_handler_sp >= lo && g_handler_sp < hi);
    EXPECT_TRUE(g_ss_in_handler.ss_flags & SS_ONSTACK);
  }
  stack_t now{};
  ASSERT_THAT(sigaltstack(nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.ss_sp, stack.data());
  EXPECT_EQ(now.ss_size, stack.size());
  EXPECT_EQ(now.ss_flags, 0);
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  ASSERT_THAT(sigaltstack(&off, nullptr), SyscallSucceeds());
  ASSERT_THAT(sigaltstack(nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.ss_flags, SS_DISABLE);
}

void ChangeAltStackInHandler(int, siginfo_t*, void*) {
  // "EPERM An attempt was made to change the alternate signal stack while
  // it was active".
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  g_calls = (sigaltstack(&ss, nullptr) == -1 && errno == EPERM) ? 1 : -1;
}

TEST_F(SignalDeliveryTest, CannotChangeAltStackWhileOnIt) {
  std::vector<char> stack(64 * 1024);
  stack_t ss{};
  ss.ss_sp = stack.data();
  ss.ss_size = stack.size();
  ASSERT_THAT(sigaltstack(&ss, nullptr), SyscallSucceeds());
  {
    ScopedSigaction act(SIGUSR1, ChangeAltStackInHandler, SA_SIGINFO | SA_ONSTACK);
    ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  }
  EXPECT_EQ(g_calls, 1);
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  ASSERT_THAT(sigaltstack(&off, nullptr), SyscallSucceeds());
}

TEST_F(SignalDeliveryTest, AltStackIsInheritedByForkChild) {
  std::vector<char> stack(64 * 1024);
  stack_t ss{};
  ss.ss_sp = stack.data();
  ss.ss_size = stack.size();
  ASSERT_THAT(sigaltstack(&ss, nullptr), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    stack_t now{};
    CHILD_CHECK(sigaltstack(nullptr, &now) == 0);
    CHILD_CHECK(now.ss_sp == stack.data() && now.ss_size == stack.size());
    return 0;
  }), 0));
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  ASSERT_THAT(sigaltstack(&off, nullptr), SyscallSucceeds());
}

volatile bool g_recurse = true;
int OverflowStack(int depth) {
  volatile char pad[4096];
  pad[depth % 4096] = 1;
  if (g_recurse) return OverflowStack(depth + 1) + pad[0];
  return pad[1];
}

void SegvOnAltStack(int, siginfo_t*, void*) { _exit(42); }

TEST_F(SignalDeliveryTest, StackOverflowHandledOnAltStack) {
  // The classic use of sigaltstack: a SIGSEGV from running out of stack
  // can only be handled on another stack.
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    static char alt[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alt;
    ss.ss_size = sizeof(alt);
    CHILD_CHECK(sigaltstack(&ss, nullptr) == 0);
    struct sigaction sa {};
    sa.sa_sigaction = SegvOnAltStack;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHILD_CHECK(sigaction(SIGSEGV, &sa, nullptr) == 0);
    struct rlimit rl = {1 << 20, 1 << 20};
    setrlimit(RLIMIT_STACK, &rl);
    OverflowStack(0);
    return 1;
  }), 42));
}

void CheckUcontext(int, siginfo_t*, void* uc) {
  auto* u = static_cast<ucontext_t*>(uc);
  // The saved mask is the mask before the handler ran.
  g_calls = sigismember(&u->uc_sigmask, SIGUSR1) ? -1 : 1;
  g_handler_sp = u->uc_mcontext.gregs[REG_RSP];
}

TEST_F(SignalDeliveryTest, UcontextHoldsInterruptedState) {
  ScopedSigaction act(SIGUSR1, CheckUcontext, SA_SIGINFO);
  int local;
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_calls, 1);
  // The interrupted stack pointer is near this frame.
  uintptr_t here = reinterpret_cast<uintptr_t>(&local);
  EXPECT_LT(g_handler_sp > here ? g_handler_sp - here : here - g_handler_sp, 1u << 16);
}

}  // namespace
}  // namespace palisade::testing
