#include "gofer/server/gofer_filter.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include "base/status_macros.h"

namespace palisade::gofer {
namespace {

#ifndef SYS_fchmodat2
constexpr int SYS_fchmodat2 = 452;
#endif

struct Row {
  int nr;
  const char* why;
};

// One row per syscall, with the reason the gofer needs it.
constexpr Row kAllow[] = {
    {SYS_recvmsg, "requests from the sentry"},
    {SYS_sendmsg, "replies, and fd donation (SCM_RIGHTS)"},
    {SYS_openat2, "one component below a dir fd, RESOLVE_BENEATH|NO_SYMLINKS"},
    {SYS_openat, "reopen a fid via /proc/self/fd; creation with O_CREAT|O_EXCL"},
    {SYS_close, "fids released by the sentry"},
    {SYS_fcntl, "F_DUPFD_CLOEXEC of the root fd"},
    {SYS_fstat, "file type checks"},
    {SYS_newfstatat, "fstat through glibc"},
    {SYS_statx, "attributes"},
    {SYS_fstatfs, "statfs"},
    {SYS_getdents64, "readdir"},
    {SYS_lseek, "readdir resume positions"},
    {SYS_mkdirat, "mkdir"},
    {SYS_mknodat, "mknod (regular, fifo, socket: checked by the server)"},
    {SYS_symlinkat, "symlink"},
    {SYS_linkat, "link via the fid's /proc/self/fd entry"},
    {SYS_unlinkat, "unlink, rmdir"},
    {SYS_renameat2, "rename"},
    {SYS_renameat, "rename through older glibc"},
    {SYS_readlinkat, "readlink"},
    {SYS_fchownat, "owner of new files, chown"},
    {SYS_fchmodat, "chmod via /proc/self/fd on kernels without fchmodat2"},
    {SYS_fchmodat2, "chmod of an O_PATH fd"},
    {SYS_utimensat, "utimes"},
    {SYS_ftruncate, "truncate"},
    {SYS_fgetxattr, "xattrs"},
    {SYS_fsetxattr, "xattrs"},
    {SYS_flistxattr, "xattrs"},
    {SYS_fremovexattr, "xattrs"},
    {SYS_read, "the C++ runtime"},
    {SYS_write, "log lines on stderr"},
    {SYS_writev, "log lines on stderr"},
    {SYS_mmap, "malloc"},
    {SYS_munmap, "malloc"},
    {SYS_mremap, "malloc"},
    {SYS_brk, "malloc"},
    {SYS_madvise, "malloc"},
    {SYS_futex, "mutexes in the runtime and spdlog"},
    {SYS_getpid, "log lines"},
    {SYS_gettid, "log lines"},
    {SYS_clock_gettime, "log timestamps (vDSO fallback)"},
    {SYS_rt_sigprocmask, "the runtime"},
    {SYS_rt_sigreturn, "signal return"},
    {SYS_restart_syscall, "restart after a stop"},
    {SYS_exit, "thread exit"},
    {SYS_exit_group, "exit"},
};

}  // namespace

absl::Status InstallGoferFilter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!ctx) return absl::InternalError("seccomp_init failed");
  for (const Row& r : kAllow) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r.nr, 0);
    if (rc != 0) {
      seccomp_release(ctx);
      return ErrnoStatus(-rc, "seccomp_rule_add", std::to_string(r.nr));
    }
  }
  (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return ErrnoStatus(-rc, "seccomp_load", "gofer filter");
  return absl::OkStatus();
}

}  // namespace palisade::gofer
