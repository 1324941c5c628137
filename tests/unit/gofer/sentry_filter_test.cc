// The sentry's seccomp filter in a forked child: host paths are refused,
// unknown syscalls kill, and what the sentry needs on the ptrace platform
// still works.
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <atomic>
#include <cstring>
#include <thread>

#include "gtest/gtest.h"
#include "sentry/seccomp/sentry_filter.h"

namespace palisade::seccomp {
namespace {

// Runs body in a forked child after installing the filter; returns the
// wait status. body returns 0 on success or the number of the failed step.
template <typename F>
int InChild(F body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!InstallSentryFilter().ok()) _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(SentryFilterTest, RefusesHostPaths) {
  int st = InChild([] {
    if (open("/etc/passwd", O_RDONLY) != -1 || errno != EPERM) return 1;
    if (openat(AT_FDCWD, "/etc/passwd", O_RDONLY) != -1 || errno != EPERM) return 2;
    struct {
      uint64_t flags, mode, resolve;
    } how = {O_RDONLY, 0, 0};
    if (syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &how, sizeof(how)) != -1 || errno != EPERM) return 3;
    if (mkdir("/tmp/sentry-filter-test-dir", 0755) != -1 || errno != EPERM) return 4;
    if (chdir("/") != -1 || errno != EPERM) return 5;
    char* argv[] = {nullptr};
    if (execve("/bin/true", argv, argv) != -1 || errno != EPERM) return 6;
    if (unlink("/etc/passwd") != -1 || errno != EPERM) return 7;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "child died: status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 0) << "step that was not refused";
}

TEST(SentryFilterTest, UnknownSyscallsKill) {
  int st = InChild([] {
    syscall(SYS_swapon, "/nonexistent", 0);  // nothing a sentry does
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(SentryFilterTest, WhatTheSentryNeedsStillWorks) {
  int st = InChild([] {
    // The MemoryFile: memfd, size, map, touch.
    int mem = memfd_create("memory-file", MFD_CLOEXEC);
    if (mem < 0) return 1;
    if (ftruncate(mem, 1 << 20) != 0) return 2;
    void* p = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
    if (p == MAP_FAILED) return 3;
    memset(p, 7, 4096);
    if (pwrite(mem, "abc", 3, 8192) != 3) return 4;
    char buf[3];
    if (pread(mem, buf, 3, 8192) != 3 || buf[0] != 'a') return 5;
    // Waiters and futexes.
    int ev = eventfd(0, EFD_CLOEXEC);
    uint64_t one = 1;
    if (ev < 0 || write(ev, &one, 8) != 8 || read(ev, &one, 8) != 8) return 6;
    int word = 0;
    if (syscall(SYS_futex, &word, FUTEX_WAKE, 1, nullptr, nullptr, 0) < 0) return 7;
    // Stubs come from the stub factory: the sentry only signals them
    // through pidfds (here: its own, with signal 0).
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
    if (pidfd < 0) return 9;
    if (syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) != 0) return 10;
    // Threads (glibc tries clone3, gets ENOSYS, falls back to clone).
    std::atomic<int> ran{0};
    std::thread([&] { ran = 1; }).join();
    if (ran != 1) return 11;
    // fstat() is newfstatat(fd, "", AT_EMPTY_PATH): served by the trap.
    struct stat st;
    if (fstat(mem, &st) != 0 || st.st_size != (1 << 20)) return 15;
    if (fstat(12345, &st) != -1 || errno != EBADF) return 16;
    // Stubs are pinned to their tracer's CPU (stub_process.h): here the
    // process itself, to the CPUs it already has.
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) return 17;
    if (sched_setaffinity(getpid(), sizeof(cpus), &cpus) != 0) return 18;
    if (kill(getpid(), 0) != 0) return 12;
    if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) != 0) return 13;
    // Donated-fd style I/O on an fd opened before the filter: stdio here.
    if (fcntl(1, F_GETFD) < 0) return 14;
    munmap(p, 1 << 20);
    close(mem);
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "child killed: status " << st << " (signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0)
                             << ")";
  EXPECT_EQ(WEXITSTATUS(st), 0) << "failed step";
}

TEST(SentryFilterTest, StatOfAHostPathIsRefused) {
  int st = InChild([] {
    struct stat s;
    if (stat("/etc/passwd", &s) != -1 || errno != EPERM) return 1;
    if (fstatat(AT_FDCWD, "/etc/passwd", &s, AT_EMPTY_PATH) != -1 || errno != EPERM) return 2;
    // A relative path from a real fd names a host file too.
    if (fstatat(1, "x", &s, AT_EMPTY_PATH) != -1 || errno != EPERM) return 3;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "child killed: status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 0) << "step that was not refused";
}

TEST(SentryFilterTest, ForkKills) {
  // The sentry never forks (stubs come from the stub factory).
  int st = InChild([] {
    pid_t c = fork();
    if (c == 0) _exit(0);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(SentryFilterTest, PfcDumpListsTheRules) {
  std::string pfc = SentryFilterPfc();
  EXPECT_NE(pfc.find("ptrace"), std::string::npos);
  EXPECT_NE(pfc.find("openat"), std::string::npos);
}

}  // namespace
}  // namespace palisade::seccomp
