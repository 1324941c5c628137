// The platform's own pages are out of the application's reach (see
// docs/security.md): the stub code page (0x7d0000000000) and a thread's
// shared register page (0x7d0000010000) lie above the application's
// address space, so mmap/mprotect/munmap/mremap/madvise cannot touch them;
// a signal mask the application sets never blocks the platform's trap;
// and code that jumps into the stub page's own syscall instruction gets no
// host syscall. Natively those addresses are ordinary (unmapped) user
// addresses, so the sandbox-only checks are skipped there.
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace {

constexpr uintptr_t kStubPage = 0x7d0000000000;
constexpr uintptr_t kSharedPage = 0x7d0000010000;
constexpr size_t kPage = 4096;

bool InSandbox() { return getenv("PALISADE_SANDBOX") != nullptr; }

void* At(uintptr_t a) { return reinterpret_cast<void*>(a); }

TEST(PlatformEscapeTest, BlockingEverySignalDoesNotStopSyscalls) {
  // In a child, so the test process keeps its mask.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sigset_t all;
    sigfillset(&all);
    if (sigprocmask(SIG_BLOCK, &all, nullptr) != 0) _exit(2);
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, 8) != 0) _exit(3);
    // Each of these is a trapped syscall on the sandbox's platforms.
    const pid_t me = static_cast<pid_t>(syscall(SYS_getpid));
    if (me <= 0) _exit(4);
    char c = 'x';
    int fds[2];
    if (pipe(fds) != 0 || write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1) _exit(5);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(PlatformEscapeTest, PlatformPagesAreNotApplicationMemory) {
  if (!InSandbox()) GTEST_SKIP() << "natively these are plain unmapped addresses";
  for (uintptr_t a : {kStubPage, kSharedPage}) {
    SCOPED_TRACE(a);
    errno = 0;
    EXPECT_EQ(mprotect(At(a), kPage, PROT_READ | PROT_WRITE | PROT_EXEC), -1);
    EXPECT_EQ(errno, ENOMEM);
    errno = 0;
    EXPECT_EQ(munmap(At(a), kPage), -1);  // beyond the address space
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(madvise(At(a), kPage, MADV_DONTNEED), -1);
    EXPECT_EQ(errno, ENOMEM);
    void* m = mmap(At(a), kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    EXPECT_EQ(m, MAP_FAILED);
    m = mmap(At(a), kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(m, At(a));  // a hint there is not honoured
    if (m != MAP_FAILED) munmap(m, kPage);
    errno = 0;
    EXPECT_EQ(mremap(At(a), kPage, 2 * kPage, MREMAP_MAYMOVE), MAP_FAILED);
    EXPECT_EQ(errno, EFAULT);
    // The sentry will not read or write them for a syscall either.
    errno = 0;
    EXPECT_EQ(write(-1, At(a), 1), -1);
  }
  // /proc/self/maps is the sentry's view: the platform's pages are not in it.
  std::ifstream maps("/proc/self/maps");
  for (std::string l; std::getline(maps, l);) EXPECT_NE(l.rfind("7d00000", 0), 0u) << l;
  // And syscalls still trap to the sentry (the sandbox's init is pid 1).
  EXPECT_EQ(syscall(SYS_getpid), getpid());
}

volatile long trap_rax = 0;
void OnSigtrap(int, siginfo_t*, void* uc) {
  trap_rax = static_cast<ucontext_t*>(uc)->uc_mcontext.gregs[REG_RAX];
  // The mapping it asked for must not exist.
  unsigned char vec;
  const bool mapped = mincore(At(0x70000000), kPage, &vec) == 0;
  _exit(trap_rax == 0x70000000 || mapped ? 1 : 0);
}

TEST(PlatformEscapeTest, JumpingIntoTheStubPageGetsNoHostSyscall) {
  if (!InSandbox()) GTEST_SKIP() << "natively there is no stub page";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The stub code is readable by app code (it is mapped on the host);
    // find its `syscall; int3`, the instruction the sentry injects with.
    const auto* code = static_cast<const unsigned char*>(At(kStubPage));
    uintptr_t target = 0;
    for (size_t i = 0; i + 3 <= kPage; ++i) {
      if (code[i] == 0x0f && code[i + 1] == 0x05 && code[i + 2] == 0xcc) {
        target = kStubPage + i;
        break;
      }
    }
    if (target == 0) _exit(3);
    struct sigaction sa = {};
    sa.sa_sigaction = OnSigtrap;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGTRAP, &sa, nullptr) != 0) _exit(4);
    // mmap(0x70000000, 4096, RW, MAP_SHARED|MAP_FIXED, 100 /* the stub's
    // MemoryFile fd */, 0) from the stub's own instruction.
    register long rax asm("rax") = SYS_mmap;
    register long rdi asm("rdi") = 0x70000000;
    register long rsi asm("rsi") = kPage;
    register long rdx asm("rdx") = PROT_READ | PROT_WRITE;
    register long r10 asm("r10") = MAP_SHARED | MAP_FIXED;
    register long r8 asm("r8") = 100;
    register long r9 asm("r9") = 0;
    asm volatile("jmp *%[t]"
                 :
                 : [t] "r"(target), "r"(rax), "r"(rdi), "r"(rsi), "r"(rdx), "r"(r10), "r"(r8),
                   "r"(r9)
                 : "memory");
    __builtin_unreachable();
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died of signal " << WTERMSIG(status);
  // 0: the call failed (ENOSYS on systrap, EBADF on ptrace, where it is
  // the app's own mmap of its fd 100) and nothing was mapped.
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
