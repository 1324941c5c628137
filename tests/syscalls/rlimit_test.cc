// Resource limits that the kernel enforces, from getrlimit(2) and the
// calls that honour them: RLIMIT_NOFILE (EMFILE), RLIMIT_FSIZE (SIGXFSZ
// and EFBIG), RLIMIT_AS (ENOMEM), RLIMIT_MEMLOCK (mlock EPERM/ENOMEM),
// RLIMIT_SIGPENDING (sigqueue EAGAIN), and prlimit64 of another process.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

sigset_t Set(std::initializer_list<int> sigs) {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : sigs) sigaddset(&s, sig);
  return s;
}

char* Map(size_t len) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) DieErrno("mmap");
  return static_cast<char*>(p);
}

TEST(RlimitTest, NofileLimitGivesEmfile) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct rlimit rl = {16, 16};
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    int last = -1;
    for (;;) {
      int fd = open("/dev/null", O_RDONLY);
      if (fd < 0) break;
      last = fd;
    }
    CHILD_CHECK(errno == EMFILE);
    CHILD_CHECK(last == 15);
    // dup2 to a number at or above the limit is EBADF; F_DUPFD is EINVAL.
    errno = 0;
    CHILD_CHECK(dup2(0, 16) == -1 && errno == EBADF);
    errno = 0;
    CHILD_CHECK(fcntl(0, F_DUPFD, 16) == -1 && errno == EINVAL);
    int p[2];
    errno = 0;
    CHILD_CHECK(pipe(p) == -1 && errno == EMFILE);
    return 0;
  }), 0));
}

TEST(RlimitTest, FsizeLimitRaisesSigxfszAndGivesEfbig) {
  TempDir dir;
  std::string path = dir.CreateFile("f", "");
  // With SIGXFSZ at its default action the writer dies.
  EXPECT_TRUE(KilledBy(RunInChild([&] {
    struct rlimit rl = {100, 100};
    CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    int fd = open(path.c_str(), O_WRONLY);
    std::string big(200, 'x');
    (void)write(fd, big.data(), big.size());  // the first 100 bytes fit
    (void)write(fd, "y", 1);
    return 0;
  }), SIGXFSZ));
  // Ignored: a write that crosses the limit is short, the next one EFBIG.
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {100, 100};
    CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
    std::string big(200, 'x');
    CHILD_CHECK(write(fd, big.data(), big.size()) == 100);
    errno = 0;
    CHILD_CHECK(write(fd, "y", 1) == -1 && errno == EFBIG);
    errno = 0;
    CHILD_CHECK(truncate(path.c_str(), 200) == -1 && errno == EFBIG);
    CHILD_CHECK(truncate(path.c_str(), 100) == 0);
    return 0;
  }), 0));
}

int g_xfsz = 0;
void CountXfsz(int) { g_xfsz++; }

TEST(RlimitTest, FsizeLimitCoversEveryWayAFileGrows) {
  TempDir dir;
  std::string path = dir.CreateFile("f", "");
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    struct sigaction sa {};
    sa.sa_handler = CountXfsz;
    CHILD_CHECK(sigaction(SIGXFSZ, &sa, nullptr) == 0);
    struct rlimit rl = {100, 100};
    CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    int fd = open(path.c_str(), O_RDWR | O_TRUNC);
    CHILD_CHECK(fd >= 0);
    std::string big(200, 'x');
    // pwrite: short up to the limit, EFBIG (and SIGXFSZ) at or past it.
    CHILD_CHECK(pwrite(fd, big.data(), 20, 90) == 10);
    CHILD_CHECK(g_xfsz == 0);
    errno = 0;
    CHILD_CHECK(pwrite(fd, big.data(), 1, 100) == -1 && errno == EFBIG);
    CHILD_CHECK(g_xfsz == 1);
    // A write of nothing is not a write past the limit.
    CHILD_CHECK(pwrite(fd, big.data(), 0, 150) == 0);
    CHILD_CHECK(g_xfsz == 1);
    // writev is cut at the limit too.
    struct iovec iov[2] = {{big.data(), 60}, {big.data(), 60}};
    CHILD_CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHILD_CHECK(writev(fd, iov, 2) == 100);
    // O_APPEND writes start at the end of the file.
    int afd = open(path.c_str(), O_WRONLY | O_APPEND);
    errno = 0;
    CHILD_CHECK(write(afd, "z", 1) == -1 && errno == EFBIG);
    CHILD_CHECK(g_xfsz == 2);
    close(afd);
    // Shrinking is always allowed; growing past the limit is not.
    CHILD_CHECK(ftruncate(fd, 50) == 0);
    errno = 0;
    CHILD_CHECK(ftruncate(fd, 101) == -1 && errno == EFBIG);
    CHILD_CHECK(g_xfsz == 3);
    CHILD_CHECK(ftruncate(fd, 100) == 0);
    CHILD_CHECK(ftruncate(fd, 10) == 0);
    errno = 0;
    CHILD_CHECK(fallocate(fd, 0, 0, 200) == -1 && errno == EFBIG);
    CHILD_CHECK(g_xfsz == 4);
    close(fd);
    return 0;
  }), 0));
}

uint64_t VmSizeBytes() {
  std::string s = ReadFileOrDie("/proc/self/status");
  size_t at = s.find("VmSize:");
  if (at == std::string::npos) return 0;
  return strtoull(s.c_str() + at + 7, nullptr, 10) * 1024;
}

TEST(RlimitTest, AddressSpaceLimitCoversMmapBrkAndMremap) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    constexpr uint64_t kMiB = 1 << 20;
    struct rlimit rl;
    CHILD_CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
    uint64_t base = VmSizeBytes();
    CHILD_CHECK(base > 0);
    rl.rlim_cur = base + 64 * kMiB;
    CHILD_CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
    void* a = mmap(nullptr, 32 * kMiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHILD_CHECK(a != MAP_FAILED);
    errno = 0;
    CHILD_CHECK(mmap(nullptr, 48 * kMiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) ==
                    MAP_FAILED &&
                errno == ENOMEM);
    // MAP_FIXED over an existing mapping replaces it: no growth.
    CHILD_CHECK(mmap(a, 32 * kMiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == a);
    // mremap may not grow past the limit either.
    errno = 0;
    CHILD_CHECK(mremap(a, 32 * kMiB, 128 * kMiB, MREMAP_MAYMOVE) == MAP_FAILED && errno == ENOMEM);
    // brk: a break that does not fit stays where it was.
    void* cur = sbrk(0);
    void* want = static_cast<char*>(cur) + 128 * kMiB;
    CHILD_CHECK(reinterpret_cast<void*>(syscall(SYS_brk, want)) == cur);
    // Unmapping makes room again.
    CHILD_CHECK(munmap(a, 32 * kMiB) == 0);
    void* b = mmap(nullptr, 48 * kMiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHILD_CHECK(b != MAP_FAILED);
    return 0;
  }), 0));
}

TEST(RlimitTest, AddressSpaceLimitIsEnforced) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct rlimit rl;
    CHILD_CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
    rl.rlim_cur = 1ULL << 32;  // 4 GiB
    CHILD_CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
    errno = 0;
    void* p = mmap(nullptr, 8ULL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHILD_CHECK(p == MAP_FAILED && errno == ENOMEM);
    return 0;
  }), 0));
}

TEST(RlimitTest, MlockRespectsMemlockLimitForUnprivileged) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to drop privileges";
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct rlimit rl = {0, 0};
    CHILD_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    char* p = Map(PageSize());
    errno = 0;
    // "EPERM The caller is not privileged, but needs privilege ... to
    // perform the requested operation" (RLIMIT_MEMLOCK is 0).
    CHILD_CHECK(mlock(p, PageSize()) == -1 && (errno == EPERM || errno == ENOMEM));
    return 0;
  }), 0));
}

TEST(RlimitTest, MlockPastANonzeroMemlockLimitIsEnomem) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to drop privileges";
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct rlimit rl = {PageSize(), PageSize()};
    CHILD_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    char* p = Map(4 * PageSize());
    errno = 0;
    CHILD_CHECK(mlock(p, 2 * PageSize()) == -1 && errno == ENOMEM);
    // An unaligned start counts the pages it touches.
    errno = 0;
    CHILD_CHECK(mlock(p + 100, PageSize()) == -1 && errno == ENOMEM);
    CHILD_CHECK(mlock(p, PageSize()) == 0);
    CHILD_CHECK(munlock(p, PageSize()) == 0);
    errno = 0;
    CHILD_CHECK(mlockall(MCL_CURRENT) == -1 && errno == ENOMEM);
    rl = {0, 0};
    CHILD_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
    errno = 0;
    CHILD_CHECK(mlockall(MCL_FUTURE) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST(RlimitTest, RealtimeQueueLimitCountsQueuedSignalsOnly) {
  // The limit caps the signals queued for the receiver's real user on the
  // whole system: a uid of its own keeps other processes out of the count.
  if (getuid() != 0) GTEST_SKIP() << "needs root to take a uid of its own";
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct rlimit rl = {4, 4};
    CHILD_CHECK(setrlimit(RLIMIT_SIGPENDING, &rl) == 0);
    CHILD_CHECK(setresuid(54321, 54321, 54321) == 0);
    sigset_t s = Set({SIGRTMIN, SIGUSR1});
    CHILD_CHECK(sigprocmask(SIG_BLOCK, &s, nullptr) == 0);
    union sigval v{};
    int sent = 0;
    errno = 0;
    while (sent < 100 && sigqueue(getpid(), SIGRTMIN, v) == 0) sent++;
    CHILD_CHECK(errno == EAGAIN);
    CHILD_CHECK(sent == 4);
    // The thread-directed form hits the same limit.
    siginfo_t info{};
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    errno = 0;
    CHILD_CHECK(syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGRTMIN, &info) == -1 &&
                errno == EAGAIN);
    // Taking one makes room for one.
    struct timespec zero = {0, 0};
    sigset_t rt = Set({SIGRTMIN});
    CHILD_CHECK(sigtimedwait(&rt, nullptr, &zero) == SIGRTMIN);
    CHILD_CHECK(sigqueue(getpid(), SIGRTMIN, v) == 0);
    // kill() of a standard signal is never refused, full queue or not.
    CHILD_CHECK(kill(getpid(), SIGUSR1) == 0);
    sigset_t usr1 = Set({SIGUSR1});
    CHILD_CHECK(sigtimedwait(&usr1, nullptr, &zero) == SIGUSR1);
    return 0;
  }), 0));
}

TEST(RlimitTest, RealtimeQueueLimitIsEagain) {
  // sigqueue(3): "EAGAIN The limit of signals which may be queued has been
  // reached" (RLIMIT_SIGPENDING). Lower it in a child to keep this fast.
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct rlimit rl = {8, 8};
    CHILD_CHECK(setrlimit(RLIMIT_SIGPENDING, &rl) == 0);
    sigset_t s = Set({SIGRTMIN});
    CHILD_CHECK(sigprocmask(SIG_BLOCK, &s, nullptr) == 0);
    union sigval v{};
    int sent = 0;
    errno = 0;
    while (sent < 100 && sigqueue(getpid(), SIGRTMIN, v) == 0) sent++;
    CHILD_CHECK(errno == EAGAIN);
    CHILD_CHECK(sent >= 1 && sent <= 8);
    return 0;
  }), 0));
}

TEST(RlimitTest, PrlimitOfChildIsVisibleInChild) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    char c;
    CHILD_CHECK(read(p[0], &c, 1) == 1);
    struct rlimit rl;
    CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHILD_CHECK(rl.rlim_cur == 77);
    return 0;
  });
  ASSERT_GT(pid, 0);
  struct rlimit rl, old;
  ASSERT_THAT(prlimit(pid, RLIMIT_NOFILE, nullptr, &old), SyscallSucceeds());
  rl = old;
  rl.rlim_cur = 77;
  ASSERT_THAT(prlimit(pid, RLIMIT_NOFILE, &rl, nullptr), SyscallSucceeds());
  ASSERT_THAT(write(p[1], "g", 1), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  close(p[0]);
  close(p[1]);
}

TEST(RlimitTest, SoftAboveHardAndRaisingHardAreRefused) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    struct rlimit rl = {20, 10};
    errno = 0;
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == -1 && errno == EINVAL);
    if (getuid() == 0) CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    rl = {64, 64};
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl = {64, 65};
    errno = 0;
    // "EPERM An unprivileged process tried to raise the hard limit".
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

}  // namespace
}  // namespace palisade::testing
