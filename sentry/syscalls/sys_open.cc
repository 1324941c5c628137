// open/close and the fd table: open, openat, creat, close, close_range,
// dup/dup2/dup3, fcntl and ioctl. Descriptor numbers are the FdTable's;
// path work is vfs::OpenAt's.
#include <linux/close_range.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/vfs/vfs.h"

namespace palisade::sys {

namespace {

constexpr int kFdLimit = 1024 * 1024;  // FdTable's default: fs.nr_open

ErrnoOr<int64_t> DoOpen(Task& t, int dirfd, uint64_t path_addr, int flags, uint32_t mode) {
  PAL_TRY(std::string path, CopyInPath(t, path_addr));
  PAL_TRY(FileRef f, vfs::OpenAt(vfs::ContextFor(t), dirfd, path, flags, mode));
  PAL_TRY(int fd, t.fds().Add(std::move(f), flags & O_CLOEXEC));
  return fd;
}

// F_GETLK/F_SETLK/F_OFD_*: validates the request as Linux does. Locks are
// not recorded: every lock request succeeds and F_GETLK reports the range
// unlocked. That is right for a single process (the common case in a
// container); processes of one sandbox do not exclude each other.
ErrnoOr<int64_t> FakeLock(Task& t, FileDescription& f, int cmd, uint64_t arg) {
  struct flock fl {};
  PAL_TRY_ERRNO(t.CopyInObj(arg, fl));
  if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK) return Errno(EINVAL);
  if (fl.l_whence != SEEK_SET && fl.l_whence != SEEK_CUR && fl.l_whence != SEEK_END) return Errno(EINVAL);
  const bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
  if (ofd && fl.l_pid != 0) return Errno(EINVAL);
  if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
    if (fl.l_type == F_UNLCK) return Errno(EINVAL);
    fl.l_type = F_UNLCK;
    PAL_TRY_ERRNO(t.CopyOutObj(arg, fl));
    return int64_t{0};
  }
  if (fl.l_type == F_RDLCK && !f.readable()) return Errno(EBADF);
  if (fl.l_type == F_WRLCK && !f.writable()) return Errno(EBADF);
  return int64_t{0};
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
    } else {
      (void)t.fds().Remove(fd);
    }
  }
  return int64_t{0};
}

SyscallResult Dup(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(a[0].Fd()));
  PAL_TRY(int fd, t.fds().Add(std::move(f), false));
  return int64_t{fd};
}

SyscallResult Dup2(Task& t, const SyscallArgs& a) {
  int oldfd = a[0].Fd(), newfd = a[1].Fd();
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(oldfd));
  if (oldfd == newfd) return int64_t{newfd};
  PAL_TRY_ERRNO(t.fds().Set(newfd, std::move(f), false, kFdLimit));
  return int64_t{newfd};
}

SyscallResult Dup3(Task& t, const SyscallArgs& a) {
  int oldfd = a[0].Fd(), newfd = a[1].Fd(), flags = a[2].Int();
  if (flags & ~O_CLOEXEC) return Errno(EINVAL);
  if (oldfd == newfd) return Errno(EINVAL);
  if (newfd < 0 || newfd >= kFdLimit) return Errno(EBADF);
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(oldfd));
  PAL_TRY_ERRNO(t.fds().Set(newfd, std::move(f), flags & O_CLOEXEC, kFdLimit));
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
      if (min < 0 || min >= kFdLimit) return Errno(EINVAL);
      PAL_TRY(int nfd, t.fds().Add(std::move(f), cmd == F_DUPFD_CLOEXEC, min, kFdLimit));
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
        if (st.ok() && c.fsuid != st->st_uid && !c.HasCap(3 /* CAP_FOWNER */)) return Errno(EPERM);
      }
      f->set_status_flags(nf);
      return int64_t{0};
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: return FakeLock(t, *f, cmd, arg);
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
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ: {
      // Pipes answer these through their Ioctl hook (same command numbers);
      // anything else is not a pipe: EBADF, as Linux says.
      ErrnoOr<int64_t> r = f->Ioctl(t, static_cast<uint64_t>(cmd), arg);
      if (!r.ok() && r.error() == Errno(ENOTTY)) return Errno(EBADF);
      return r;
    }
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
