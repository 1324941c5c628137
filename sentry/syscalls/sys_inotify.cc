// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch
// (inotify(7)). The file is Inotify (sentry/fsimpl/inotify/inotify.h); the
// VFS reports changes through sentry/vfs/fsnotify.h.
#include <sys/inotify.h>

#include <algorithm>
#include <climits>

#include "sentry/fsimpl/inotify/inotify.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers_fdtypes.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/syscalls/sys_poll_common.h"
#include "sentry/vfs/vfs.h"

namespace palisade::sys {
namespace {

// Every bit inotify_add_watch accepts (ALL_INOTIFY_BITS).
constexpr uint32_t kAllBits = IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK |
                              IN_MASK_CREATE | IN_MASK_ADD | IN_ONESHOT | IN_ISDIR | IN_IGNORED |
                              IN_Q_OVERFLOW | IN_UNMOUNT;

SyscallResult DoInit(Task& t, int flags) {
  if (flags & ~(IN_CLOEXEC | IN_NONBLOCK)) return Errno(EINVAL);
  auto f = Inotify::Create(flags);
  int limit = static_cast<int>(std::min<uint64_t>(NofileLimit(t), INT_MAX));
  PAL_TRY(int fd, t.fds().Add(f, flags & IN_CLOEXEC, 0, limit));
  return int64_t(fd);
}

ErrnoOr<std::shared_ptr<Inotify>> GetInotify(Task& t, int fd) {
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(fd));
  auto in = std::dynamic_pointer_cast<Inotify>(f);
  if (!in) return Errno(EINVAL);
  return in;
}

}  // namespace

SyscallResult InotifyInit(Task& t, const SyscallArgs&) { return DoInit(t, 0); }

SyscallResult InotifyInit1(Task& t, const SyscallArgs& a) { return DoInit(t, a[0].Int()); }

// The order of checks is Linux's: mask (EINVAL), fd (EBADF, EINVAL), the
// path walk (ENOENT, ENOTDIR, EACCES ...), read permission (EACCES).
SyscallResult InotifyAddWatch(Task& t, const SyscallArgs& a) {
  uint32_t mask = a[2].Uint();
  if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) return Errno(EINVAL);
  if (!(mask & kAllBits)) return Errno(EINVAL);
  PAL_TRY(auto in, GetInotify(t, a[0].Fd()));
  PAL_TRY(std::string path, CopyInPath(t, a[1].Ptr()));
  vfs::PathContext ctx = vfs::ContextFor(t);
  PAL_TRY(vfs::ResolvedNode n, vfs::ResolveNode(ctx, AT_FDCWD, path, {.follow = !(mask & IN_DONT_FOLLOW)}));
  if ((mask & IN_ONLYDIR) && !S_ISDIR(n.attr.mode)) return Errno(ENOTDIR);
  PAL_TRY_ERRNO(vfs::CheckPermission(ctx.creds, n.attr, 4 /* MAY_READ */));
  // A mask with flags but no event (say IN_ONESHOT alone) is accepted and
  // watches nothing, as on Linux.
  PAL_TRY(int wd, in->AddWatch(*n.path.dentry->inode(), mask));
  return int64_t(wd);
}

SyscallResult InotifyRmWatch(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto in, GetInotify(t, a[0].Fd()));
  PAL_TRY_ERRNO(in->RmWatch(a[1].Int()));
  return int64_t(0);
}

}  // namespace palisade::sys
