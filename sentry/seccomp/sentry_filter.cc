#include "sentry/seccomp/sentry_filter.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <ucontext.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/status_macros.h"

namespace palisade::seccomp {
namespace {

struct Row {
  int nr;
  const char* why;
};

// glibc's fstat() is newfstatat(fd, "", buf, AT_EMPTY_PATH), which a BPF
// filter cannot tell from a stat of a host path (it cannot read the path).
// So newfstatat traps, and this handler serves only the empty-path form,
// with the fstat syscall; any path gets EPERM like the other path calls.
// SAFETY: runs in a signal handler: raw syscalls only, errno preserved.
void OnSigsys(int, siginfo_t* si, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  greg_t* g = uc->uc_mcontext.gregs;
  if (si->si_code != 1 /* SYS_SECCOMP */ || si->si_syscall != SYS_newfstatat) {
    g[REG_RAX] = -ENOSYS;  // no other syscall traps
    return;
  }
  const char* path = reinterpret_cast<const char*>(g[REG_RSI]);
  const int saved = errno;
  long r = -EPERM;
  if ((g[REG_R10] & AT_EMPTY_PATH) != 0 && path != nullptr && path[0] == '\0') {
    r = syscall(SYS_fstat, g[REG_RDI], g[REG_RDX]);
    if (r < 0) r = -errno;
  }
  errno = saved;
  g[REG_RAX] = r;
}

// Allowed outright.
constexpr Row kAllow[] = {
    // I/O on fds the sentry owns: the memfd, donated gofer fds, host stdio,
    // eventfds, the gofer socket.
    {SYS_read, "fd I/O"},
    {SYS_write, "fd I/O"},
    {SYS_readv, "fd I/O"},
    {SYS_writev, "fd I/O"},
    {SYS_pread64, "donated file reads"},
    {SYS_pwrite64, "donated file writes"},
    {SYS_preadv, "donated file reads"},
    {SYS_pwritev, "donated file writes"},
    {SYS_preadv2, "reads at the current offset or with RWF_* flags on donated/host fds"},
    {SYS_pwritev2, "writes at the current offset or with RWF_* flags (host stdio, donated fds)"},
    {SYS_lseek, "SEEK_DATA/SEEK_HOLE on donated files"},
    {SYS_close, "fds"},
    {SYS_dup, "fds"},
    {SYS_dup2, "fds"},
    {SYS_dup3, "fds"},
    {SYS_fcntl, "fd flags, F_DUPFD_CLOEXEC"},
    {SYS_fstat, "attributes of donated files"},
    {SYS_fstatfs, "statfs of donated files"},
    {SYS_ftruncate, "truncate donated files, size the memfd"},
    {SYS_fallocate, "fallocate on donated files and the memfd"},
    {SYS_fsync, "fsync"},
    {SYS_fdatasync, "fdatasync"},
    {SYS_ioctl, "host tty stdio (TCGETS, TIOCGWINSZ ...)"},
    {SYS_sendmsg, "gofer requests"},
    {SYS_recvmsg, "gofer replies with donated fds"},
    {SYS_sendto, "host sockets of the sandbox"},
    {SYS_recvfrom, "host sockets of the sandbox"},
    {SYS_shutdown, "sockets"},
    {SYS_socketpair, "internal channels"},
    // Memory.
    {SYS_memfd_create, "the MemoryFile"},
    {SYS_mmap, "the MemoryFile and malloc"},
    {SYS_munmap, "memory"},
    {SYS_mprotect, "memory"},
    {SYS_mremap, "memory"},
    {SYS_madvise, "memory"},
    {SYS_brk, "malloc"},
    {SYS_msync, "shared file mappings"},
    // The platforms: stubs come from the stub factory (forked before this
    // filter), so the sentry only traces, signals and waits for them; it
    // never forks (clone is allowed for threads only, below).
    {SYS_ptrace, "drive the stubs (seize, inject, SYSEMU)"},
    {SYS_wait4, "stub stops and exits"},
    {SYS_waitid, "stub stops and exits"},
    {SYS_kill, "signals to stubs"},
    {SYS_tgkill, "interrupt task threads"},
    {SYS_tkill, "interrupt task threads"},
    {SYS_pidfd_open, "stub lifetimes"},
    {SYS_pidfd_getfd, "a systrap stub's seccomp listener, at its set-up (same permission as ptrace attach)"},
    {SYS_pidfd_send_signal, "kicks and kills of stubs (pidfds from the factory)"},
    {SYS_seccomp, "libseccomp probes the API level; a filter can only narrow"},
    {SYS_prctl, "thread names, no_new_privs"},
    {SYS_accept4, "the control socket (palisade start/exec/ps/kill)"},
    {SYS_process_vm_readv, "slow-path copies"},
    {SYS_process_vm_writev, "slow-path copies"},
    {SYS_arch_prctl, "TLS of new threads"},
    {SYS_set_tid_address, "threads"},
    {SYS_set_robust_list, "threads"},
    {SYS_rseq, "glibc threads"},
    {SYS_sched_yield, "spinning"},
    {SYS_sched_getaffinity, "thread pools; the sandbox sees the host's online CPUs"},
    {SYS_sched_setaffinity, "stubs pinned to their tracer's CPU (ptrace hand-offs on one CPU)"},
    {SYS_sched_rr_get_interval, "sched_rr_get_interval(2) reports the host's time slice"},
    {SYS_getrlimit, "limits"},
    {SYS_prlimit64, "limits"},
    {SYS_setrlimit, "limits"},
    // Waiting and time.
    {SYS_futex, "mutexes, condition variables, app futexes"},
    {SYS_eventfd2, "task waiters"},
    {SYS_poll, "waits"},
    {SYS_ppoll, "waits"},
    {SYS_pselect6, "waits"},
    {SYS_epoll_create1, "waits"},
    {SYS_epoll_ctl, "waits"},
    {SYS_epoll_wait, "waits"},
    {SYS_epoll_pwait, "waits"},
    {SYS_nanosleep, "sleeps"},
    {SYS_clock_nanosleep, "sleeps"},
    {SYS_clock_gettime, "time"},
    {SYS_clock_getres, "time"},
    {SYS_gettimeofday, "time"},
    {SYS_timerfd_create, "timers"},
    {SYS_timerfd_settime, "timers"},
    {SYS_timerfd_gettime, "timers"},
    {SYS_getrandom, "random bytes for the sandbox"},
    {SYS_sysinfo, "host RAM size and uptime for sysinfo(2) and /proc/meminfo"},
    // Signals and identity.
    {SYS_rt_sigaction, "signal handling"},
    {SYS_rt_sigprocmask, "signal masks"},
    {SYS_rt_sigreturn, "signal return"},
    {SYS_rt_sigtimedwait, "the signal forwarder"},
    {SYS_sigaltstack, "signal stacks"},
    {SYS_restart_syscall, "restarts"},
    {SYS_getpid, "identity"},
    {SYS_gettid, "identity"},
    {SYS_getppid, "identity"},
    {SYS_getuid, "identity"},
    {SYS_geteuid, "identity"},
    {SYS_getgid, "identity"},
    {SYS_getegid, "identity"},
    {SYS_uname, "uname for the sandbox"},
    {SYS_exit, "thread exit"},
    {SYS_exit_group, "exit"},
};

// Refused with EPERM: every way to name a host path or change the host's
// file namespace. (Listed so a library probing a file fails cleanly rather
// than killing the sentry.)
constexpr Row kRefuse[] = {
    {SYS_open, "host paths"},        {SYS_openat, "host paths"},      {SYS_openat2, "host paths"},
    {SYS_creat, "host paths"},       {SYS_stat, "host paths"},        {SYS_lstat, "host paths"},
    {SYS_statx, "host paths"},       {SYS_access, "host paths"},
    {SYS_faccessat, "host paths"},   {SYS_faccessat2, "host paths"},  {SYS_readlink, "host paths"},
    {SYS_readlinkat, "host paths"},  {SYS_mkdir, "host paths"},       {SYS_mkdirat, "host paths"},
    {SYS_unlink, "host paths"},      {SYS_unlinkat, "host paths"},    {SYS_rmdir, "host paths"},
    {SYS_rename, "host paths"},      {SYS_renameat, "host paths"},    {SYS_renameat2, "host paths"},
    {SYS_link, "host paths"},        {SYS_linkat, "host paths"},      {SYS_symlink, "host paths"},
    {SYS_symlinkat, "host paths"},   {SYS_chdir, "host paths"},       {SYS_fchdir, "host paths"},
    {SYS_chroot, "host paths"},      {SYS_mount, "host mounts"},      {SYS_umount2, "host mounts"},
    {SYS_pivot_root, "host mounts"}, {SYS_truncate, "host paths"},    {SYS_chmod, "host paths"},
    {SYS_chown, "host paths"},       {SYS_lchown, "host paths"},      {SYS_fchmodat, "host paths"},
    {SYS_fchownat, "host paths"},    {SYS_utimensat, "host paths"},   {SYS_mknod, "host paths"},
    {SYS_mknodat, "host paths"},     {SYS_execve, "host programs"},   {SYS_execveat, "host programs"},
    {SYS_open_by_handle_at, "host files by handle"},
    {SYS_name_to_handle_at, "host paths"},
};

absl::StatusOr<scmp_filter_ctx> Build(const SentryFilterOptions& opts) {
  scmp_filter_ctx ctx = seccomp_init(opts.log_denials ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
  if (!ctx) return absl::InternalError("seccomp_init failed");
  for (const Row& r : kAllow) {
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r.nr, 0); rc != 0) {
      seccomp_release(ctx);
      return ErrnoStatus(-rc, "seccomp_rule_add (allow)", std::to_string(r.nr));
    }
  }
  // Threads only: clone3 (whose flags are in memory) makes glibc fall back
  // to clone, whose flags must include CLONE_THREAD. No fork, no vfork.
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SYS_clone3, 0); rc != 0) {
    seccomp_release(ctx);
    return ErrnoStatus(-rc, "seccomp_rule_add (clone3)");
  }
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SYS_clone, 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
      rc != 0) {
    seccomp_release(ctx);
    return ErrnoStatus(-rc, "seccomp_rule_add (clone)");
  }
  // fstat() through newfstatat: see OnSigsys.
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SYS_newfstatat, 0); rc != 0) {
    seccomp_release(ctx);
    return ErrnoStatus(-rc, "seccomp_rule_add (newfstatat)");
  }
  for (const Row& r : kRefuse) {
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), r.nr, 0); rc != 0) {
      seccomp_release(ctx);
      return ErrnoStatus(-rc, "seccomp_rule_add (refuse)", std::to_string(r.nr));
    }
  }
  (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  return ctx;
}

}  // namespace

absl::Status InstallSentryFilter(const SentryFilterOptions& opts) {
  struct sigaction sa {};
  sa.sa_sigaction = OnSigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSYS, &sa, nullptr) != 0) return ErrnoStatus(errno, "sigaction(SIGSYS)");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoStatus(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  PAL_ASSIGN_OR_RETURN(scmp_filter_ctx ctx, Build(opts));
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return ErrnoStatus(-rc, "seccomp_load", "sentry filter");
  return absl::OkStatus();
}

std::string SentryFilterPfc() {
  auto ctx = Build({});
  if (!ctx.ok()) return std::string(ctx.status().message());
  std::string out;
  int fd = memfd_create("sentry-filter-pfc", MFD_CLOEXEC);
  if (fd >= 0) {
    seccomp_export_pfc(*ctx, fd);
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    close(fd);
  }
  seccomp_release(*ctx);
  return out;
}

}  // namespace palisade::seccomp
