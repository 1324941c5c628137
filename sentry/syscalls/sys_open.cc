// open/close and the fd table: open, openat, creat, close, close_range,
// dup/dup2/dup3, fcntl and ioctl. Descriptor numbers are the FdTable's;
// path work is vfs::OpenAt's.
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "sentry/fsimpl/pipe/pipe_file.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/syscalls/sys_poll_common.h"
#include "sentry/vfs/file_lock.h"
#include "sentry/vfs/vfs.h"

namespace palisade::sys {

namespace {

// The caller's RLIMIT_NOFILE (soft): fd numbers must stay below it.
int FdLimit(Task& t) { return static_cast<int>(std::min<uint64_t>(NofileLimit(t), 1024 * 1024)); }

ErrnoOr<int64_t> DoOpen(Task& t, int dirfd, uint64_t path_addr, int flags, uint32_t mode) {
  PAL_TRY(std::string path, CopyInPath(t, path_addr));
  PAL_TRY(FileRef f, vfs::OpenAt(vfs::ContextFor(t), dirfd, path, flags, mode));
  PAL_TRY(int fd, t.fds().Add(std::move(f), flags & O_CLOEXEC, 0, FdLimit(t)));
  return fd;
}

// The lock owner and file key of a record-lock call on f.
struct LockTarget {
  vfs::FileLocks::Key key;
  vfs::FileLocks::Owner owner;
  int64_t size;
};

ErrnoOr<LockTarget> LockTargetOf(Task& t, const FileRef& f, bool ofd) {
  VirtualPath p = vfs::PathOf(*f);
  if (!p.valid()) return Errno(EINVAL);  // pipes, sockets: no inode to lock here
  PAL_TRY(InodeAttr a, p.dentry->inode()->GetAttr());
  LockTarget lt{{p.dentry->inode()->FsId(), a.dev, a.ino}, {}, a.size};
  if (ofd) {
    lt.owner = {f.get(), std::weak_ptr<const void>(std::shared_ptr<const void>(f)), -1};
  } else {
    const std::shared_ptr<FdTable>& table = t.fds_ref();
    lt.owner = {table.get(), std::weak_ptr<const void>(std::shared_ptr<const void>(table)), t.tgid()};
  }
  return lt;
}

// close() of any fd of a file drops the process's POSIX locks on it.
void ReleasePosixLocks(Task& t, const FileRef& f) {
  if (!f || !vfs::FileLocks::Global().Any()) return;
  VirtualPath p = vfs::PathOf(*f);
  if (!p.valid()) return;
  auto a = p.dentry->inode()->GetAttr();
  if (!a.ok()) return;
  vfs::FileLocks::Global().ReleaseAll({p.dentry->inode()->FsId(), a->dev, a->ino}, t.fds_ref().get());
}

// F_GETLK/F_SETLK/F_SETLKW and the F_OFD_* forms (fcntl(2) "Advisory
// record locking"). F_SETLKW re-checks whenever a lock is released and at
// least every 50 ms (an owner can vanish without releasing: process exit).
// A POSIX F_SETLKW that would wait in a cycle of waiters fails EDEADLK.
ErrnoOr<int64_t> RecordLock(Task& t, const FileRef& f, int cmd, uint64_t arg) {
  struct flock fl {};
  PAL_TRY_ERRNO(t.CopyInObj(arg, fl));
  const bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
  const bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
  const bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
  if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && (get || fl.l_type != F_UNLCK)) return Errno(EINVAL);
  if (ofd && fl.l_pid != 0) return Errno(EINVAL);
  PAL_TRY(LockTarget lt, LockTargetOf(t, f, ofd));
  int64_t base;
  switch (fl.l_whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: {
      PAL_TRY(base, f->Seek(t, 0, SEEK_CUR));
      break;
    }
    case SEEK_END: base = lt.size; break;
    default: return Errno(EINVAL);
  }
  int64_t start, end;
  if (__builtin_add_overflow(base, fl.l_start, &start)) return Errno(EOVERFLOW);
  if (fl.l_len > 0) {
    if (__builtin_add_overflow(start, fl.l_len - 1, &end)) return Errno(EOVERFLOW);
  } else if (fl.l_len == 0) {
    end = vfs::FileLocks::kEof;
  } else {
    end = start - 1;
    start += fl.l_len;
  }
  if (start < 0) return Errno(EINVAL);
  vfs::FileLocks& locks = vfs::FileLocks::Global();
  if (get) {
    std::optional<vfs::FileLocks::Conflict> c = locks.Test(lt.key, lt.owner.id, fl.l_type, start, end);
    if (!c) {
      fl.l_type = F_UNLCK;
    } else {
      fl.l_type = static_cast<short>(c->type);
      fl.l_whence = SEEK_SET;
      fl.l_start = c->start;
      fl.l_len = c->end == vfs::FileLocks::kEof ? 0 : c->end - c->start + 1;
      fl.l_pid = c->pid;
    }
    PAL_TRY_ERRNO(t.CopyOutObj(arg, fl));
    return int64_t{0};
  }
  if (fl.l_type == F_RDLCK && !f->readable()) return Errno(EBADF);
  if (fl.l_type == F_WRLCK && !f->writable()) return Errno(EBADF);
  Errno e = wait ? locks.SetOrWait(lt.key, lt.owner, fl.l_type, start, end, &t, !ofd)
                 : locks.Set(lt.key, lt.owner, fl.l_type, start, end);
  if (e != Errno(EAGAIN) || !wait) return e.ok() ? ErrnoOr<int64_t>(int64_t{0}) : ErrnoOr<int64_t>(e);
  Waiter& w = t.waiter();
  w.Clear();
  locks.changed().Register(&w, kEventAll);
  for (;;) {
    e = locks.SetOrWait(lt.key, lt.owner, fl.l_type, start, end, &t, !ofd);
    if (e != Errno(EAGAIN)) break;
    Errno b = t.Block(MonotonicNowNs() + 50'000'000);
    if (b == Errno(EINTR)) {
      e = Errno(kERESTARTSYS);
      break;
    }
    w.Clear();
  }
  locks.StopWaiting(&t);
  locks.changed().Unregister(&w);
  return e.ok() ? ErrnoOr<int64_t>(int64_t{0}) : ErrnoOr<int64_t>(e);
}

}  // namespace

SyscallResult Open(Task& t, const SyscallArgs& a) { return DoOpen(t, AT_FDCWD, a[0].Ptr(), a[1].Int(), a[2].Mode()); }

SyscallResult Openat(Task& t, const SyscallArgs& a) {
  return DoOpen(t, a[0].Fd(), a[1].Ptr(), a[2].Int(), a[3].Mode());
}

SyscallResult Creat(Task& t, const SyscallArgs& a) {
  return DoOpen(t, AT_FDCWD, a[0].Ptr(), O_CREAT | O_WRONLY | O_TRUNC, a[1].Mode());
}

SyscallResult Close(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, t.fds().Remove(a[0].Fd()));
  ReleasePosixLocks(t, f);
  f.reset();  // the last reference releases the file here, outside the table lock
  return int64_t{0};
}

SyscallResult CloseRange(Task& t, const SyscallArgs& a) {
  uint32_t first = a[0].Uint(), last = a[1].Uint(), flags = a[2].Uint();
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) return Errno(EINVAL);
  if (first > last) return Errno(EINVAL);
  // CLOSE_RANGE_UNSHARE needs a private table; the table belongs to the
  // kernel's Task, which we cannot re-point here. Unshared already (the
  // usual case: a child after fork) it is a no-op; shared, refuse rather
  // than close other threads' descriptors.
  if ((flags & CLOSE_RANGE_UNSHARE) && t.fds_ref().use_count() > 1) return Errno(EINVAL);
  for (int fd : t.fds().Fds()) {
    if (static_cast<uint32_t>(fd) < first || static_cast<uint32_t>(fd) > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) {
      (void)t.fds().SetCloexec(fd, true);
    } else if (auto f = t.fds().Remove(fd); f.ok()) {
      ReleasePosixLocks(t, *f);
    }
  }
  return int64_t{0};
}

SyscallResult Dup(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(a[0].Fd()));
  PAL_TRY(int fd, t.fds().Add(std::move(f), false, 0, FdLimit(t)));
  return int64_t{fd};
}

SyscallResult Dup2(Task& t, const SyscallArgs& a) {
  int oldfd = a[0].Fd(), newfd = a[1].Fd();
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(oldfd));
  if (oldfd == newfd) return int64_t{newfd};
  if (newfd < 0 || newfd >= FdLimit(t)) return Errno(EBADF);
  FileRef replaced = t.fds().Get(newfd);
  PAL_TRY_ERRNO(t.fds().Set(newfd, std::move(f), false));
  ReleasePosixLocks(t, replaced);
  return int64_t{newfd};
}

SyscallResult Dup3(Task& t, const SyscallArgs& a) {
  int oldfd = a[0].Fd(), newfd = a[1].Fd(), flags = a[2].Int();
  if (flags & ~O_CLOEXEC) return Errno(EINVAL);
  if (oldfd == newfd) return Errno(EINVAL);
  if (newfd < 0 || newfd >= FdLimit(t)) return Errno(EBADF);
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(oldfd));
  FileRef replaced = t.fds().Get(newfd);
  PAL_TRY_ERRNO(t.fds().Set(newfd, std::move(f), flags & O_CLOEXEC));
  ReleasePosixLocks(t, replaced);
  return int64_t{newfd};
}

SyscallResult Fcntl(Task& t, const SyscallArgs& a) {
  int fd = a[0].Fd(), cmd = a[1].Int();
  uint64_t arg = a[2].raw;
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(fd));
  // O_PATH descriptors allow only these (fs/fcntl.c check_fcntl_cmd).
  if ((f->flags() & O_PATH) && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_GETFD && cmd != F_SETFD &&
      cmd != F_GETFL) {
    return Errno(EBADF);
  }
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      int min = static_cast<int>(arg);
      int limit = FdLimit(t);
      if (arg >= static_cast<uint64_t>(limit)) return Errno(EINVAL);
      PAL_TRY(int nfd, t.fds().Add(std::move(f), cmd == F_DUPFD_CLOEXEC, min, limit));
      return int64_t{nfd};
    }
    case F_GETFD: return int64_t{t.fds().GetCloexec(fd) ? FD_CLOEXEC : 0};
    case F_SETFD: {
      PAL_TRY_ERRNO(t.fds().SetCloexec(fd, arg & FD_CLOEXEC));
      return int64_t{0};
    }
    case F_GETFL: return int64_t{f->flags()};
    case F_SETFL: {
      int nf = static_cast<int>(arg);
      if ((nf & O_NOATIME) && !(f->flags() & O_NOATIME)) {
        // Only the owner (or CAP_FOWNER) may set O_NOATIME.
        auto st = f->Stat(t);
        Credentials c = t.creds();
        if (st.ok() && c.fsuid != st->st_uid && !c.HasCap(CAP_FOWNER)) return Errno(EPERM);
      }
      f->set_status_flags(nf);
      return int64_t{0};
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: return RecordLock(t, f, cmd, arg);
    case F_GETOWN: return int64_t{0};  // no SIGIO owner is recorded (O_ASYNC is not delivered)
    case F_SETOWN: return int64_t{0};
    case F_GETOWN_EX: {
      struct f_owner_ex o {F_OWNER_PID, 0};
      PAL_TRY_ERRNO(t.CopyOutObj(arg, o));
      return int64_t{0};
    }
    case F_SETOWN_EX: {
      struct f_owner_ex o {};
      PAL_TRY_ERRNO(t.CopyInObj(arg, o));
      if (o.type != F_OWNER_TID && o.type != F_OWNER_PID && o.type != F_OWNER_PGRP) return Errno(EINVAL);
      return int64_t{0};
    }
    case F_GETSIG: return int64_t{0};
    case F_SETSIG: return arg > 64 ? SyscallResult(Errno(EINVAL)) : SyscallResult(int64_t{0});
    case F_GETLEASE: return int64_t{F_UNLCK};
    case F_GETPIPE_SZ: return PipeGetSize(*f);
    case F_SETPIPE_SZ: return PipeSetSize(*f, static_cast<uint32_t>(arg), t.creds().HasCap(CAP_SYS_RESOURCE));
    default:
      // F_SETLEASE, F_NOTIFY, seals (memfd only), rw hints: unsupported.
      return Errno(EINVAL);
  }
}

SyscallResult Ioctl(Task& t, const SyscallArgs& a) {
  int fd = a[0].Fd();
  uint64_t cmd = a[1].Uint(), arg = a[2].Ptr();
  PAL_TRY(FileRef f, GetFile(t, fd, FileNeed::kNotPath));
  switch (cmd) {
    case FIOCLEX:
    case FIONCLEX: {
      PAL_TRY_ERRNO(t.fds().SetCloexec(fd, cmd == FIOCLEX));
      return int64_t{0};
    }
    case FIONBIO:
    case FIOASYNC: {
      int on = 0;
      PAL_TRY_ERRNO(t.CopyInObj(arg, on));
      int bit = cmd == FIONBIO ? O_NONBLOCK : O_ASYNC;
      f->set_status_flags(on ? (f->flags() | bit) : (f->flags() & ~bit));
      return int64_t{0};
    }
    default: break;
  }
  // Generic answers for regular files (fs/ioctl.c); everything else is
  // the file's own ioctl.
  uint32_t mode = FileMode(t, *f);
  if (S_ISREG(mode) && (cmd == FIONREAD || cmd == FIGETBSZ || cmd == FIOQSIZE)) {
    PAL_TRY(struct stat st, f->Stat(t));
    if (cmd == FIOQSIZE) {
      int64_t size = st.st_size;
      PAL_TRY_ERRNO(t.CopyOutObj(arg, size));
    } else if (cmd == FIGETBSZ) {
      int bs = static_cast<int>(st.st_blksize);
      PAL_TRY_ERRNO(t.CopyOutObj(arg, bs));
    } else {
      PAL_TRY(int64_t pos, f->Seek(t, 0, SEEK_CUR));
      int n = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(st.st_size - pos, INT32_MAX)));
      PAL_TRY_ERRNO(t.CopyOutObj(arg, n));
    }
    return int64_t{0};
  }
  return f->Ioctl(t, cmd, arg);
}

}  // namespace palisade::sys
