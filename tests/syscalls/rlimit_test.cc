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
