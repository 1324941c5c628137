// flock(2): whole-file advisory locks owned by the open file description
// (shared by dup() and fork(), independent between separate open()s),
// kept in their own FileLocks table because on Linux flock() and fcntl()
// locks do not interact. A lock goes away with LOCK_UN or when the last
// descriptor of its open file description closes.
#include <sys/file.h>

#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers_tests.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/vfs/file_lock.h"
#include "sentry/vfs/vfs.h"

namespace palisade::sys {
namespace {

vfs::FileLocks& FlockTable() {
  static auto* table = new vfs::FileLocks();  // never destroyed: tasks may outlive statics
  return *table;
}

}  // namespace

SyscallResult Flock(Task& t, const SyscallArgs& a) {
  const int op = a[1].Int();
  const bool nonblock = op & LOCK_NB;
  int type;
  switch (op & ~LOCK_NB) {
    case LOCK_SH: type = F_RDLCK; break;
    case LOCK_EX: type = F_WRLCK; break;
    case LOCK_UN: type = F_UNLCK; break;
    default: return Errno(EINVAL);
  }
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kNotPath));
  VirtualPath p = vfs::PathOf(*f);
  if (!p.valid()) return Errno(EINVAL);
  PAL_TRY(InodeAttr attr, p.dentry->inode()->GetAttr());
  const vfs::FileLocks::Key key{p.dentry->inode()->FsId(), attr.dev, attr.ino};
  const vfs::FileLocks::Owner owner{f.get(), std::weak_ptr<const void>(std::shared_ptr<const void>(f)), t.tgid()};
  vfs::FileLocks& locks = FlockTable();
  Errno e = locks.Set(key, owner, type, 0, vfs::FileLocks::kEof);
  if (e != Errno(EAGAIN) || nonblock) return e.ok() ? SyscallResult(int64_t{0}) : SyscallResult(e);
  // Blocking: re-check whenever a lock is released and at least every
  // 50 ms (the last close of a holder releases it without a notification).
  Waiter& w = t.waiter();
  w.Clear();
  locks.changed().Register(&w, kEventAll);
  for (;;) {
    e = locks.Set(key, owner, type, 0, vfs::FileLocks::kEof);
    if (e != Errno(EAGAIN)) break;
    if (t.Block(MonotonicNowNs() + 50'000'000) == Errno(EINTR)) {
      e = Errno(kERESTARTSYS);
      break;
    }
    w.Clear();
  }
  locks.changed().Unregister(&w);
  return e.ok() ? SyscallResult(int64_t{0}) : SyscallResult(e);
}

}  // namespace palisade::sys
