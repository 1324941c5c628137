// Metadata syscalls: the stat family (stat, lstat, fstat, newfstatat,
// statx), statfs/fstatfs, access/faccessat(2), readlink(at), chmod,
// chown, utime(s)/utimensat/futimesat, truncate/ftruncate, fallocate,
// fadvise64 and the sync calls. Path resolution and the permission rules
// are vfs_ops.h's; here are argument decoding and fd-based variants.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <utime.h>

#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/rlimit_checks.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::sys {

namespace {

constexpr uint32_t kNoId = static_cast<uint32_t>(-1);

// The path a *at() call with AT_EMPTY_PATH names: dirfd's own file.
ErrnoOr<VirtualPath> FdPath(Task& t, int dirfd) {
  if (dirfd == AT_FDCWD) return t.fs().cwd();
  PAL_TRY(FileRef f, GetFile(t, dirfd, FileNeed::kAny));
  VirtualPath p = vfs::PathOf(*f);
  if (!p.valid()) return Errno(EBADF);  // pipes and sockets have no path to act on
  return p;
}

// Resolves (dirfd, path, flags) for calls taking AT_SYMLINK_NOFOLLOW and
// AT_EMPTY_PATH. A null path with AT_EMPTY_PATH counts as "" (Linux 6.11).
ErrnoOr<VirtualPath> PathArg(Task& t, int dirfd, uint64_t path_addr, int flags) {
  std::string path;
  if (path_addr || !(flags & AT_EMPTY_PATH)) {
    PAL_TRY(path, CopyInPath(t, path_addr));
  }
  if (path.empty() && (flags & AT_EMPTY_PATH)) return FdPath(t, dirfd);
  return vfs::Resolve(vfs::ContextFor(t), dirfd, path, {.follow = !(flags & AT_SYMLINK_NOFOLLOW)});
}

// Attributes for fstatat/statx: the inode's own when the file has a path
// (btime included), else what the file reports.
ErrnoOr<InodeAttr> AttrAt(Task& t, int dirfd, uint64_t path_addr, int flags) {
  std::string path;
  if (path_addr || !(flags & AT_EMPTY_PATH)) {
    PAL_TRY(path, CopyInPath(t, path_addr));
  }
  if (!path.empty() || !(flags & AT_EMPTY_PATH)) {
    vfs::ResolveOptions ro{.follow = !(flags & AT_SYMLINK_NOFOLLOW)};
    PAL_TRY(vfs::ResolvedNode n, vfs::ResolveNode(vfs::ContextFor(t), dirfd, path, ro));
    return n.attr;
  }
  if (dirfd == AT_FDCWD) {
    VirtualPath cwd = t.fs().cwd();
    if (!cwd.valid()) return Errno(ENOENT);
    return cwd.dentry->inode()->GetAttr();
  }
  PAL_TRY(FileRef f, GetFile(t, dirfd, FileNeed::kAny));
  if (f->dentry()) return f->dentry()->inode()->GetAttr();
  PAL_TRY(struct stat st, f->Stat(t));
  return StatToInodeAttr(st);
}

SyscallResult StatAt(Task& t, int dirfd, uint64_t path_addr, uint64_t buf, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) return Errno(EINVAL);
  PAL_TRY(InodeAttr a, AttrAt(t, dirfd, path_addr, flags));
  struct stat st = InodeAttrToStat(a);
  PAL_TRY_ERRNO(t.CopyOutObj(buf, st));
  return int64_t{0};
}

SyscallResult ReadlinkAt(Task& t, int dirfd, uint64_t path_addr, uint64_t buf, int64_t size) {
  if (size <= 0) return Errno(EINVAL);
  PAL_TRY(std::string path, CopyInPath(t, path_addr));
  PAL_TRY(std::string target, vfs::ReadLinkAt(vfs::ContextFor(t), dirfd, path));
  size_t n = std::min<size_t>(target.size(), static_cast<size_t>(size));  // no NUL, silently cut
  PAL_TRY_ERRNO(t.CopyOut(buf, target.data(), n));
  return static_cast<int64_t>(n);
}

SyscallResult ChmodAt(Task& t, int dirfd, uint64_t path_addr, uint32_t mode) {
  PAL_TRY(VirtualPath p, PathArg(t, dirfd, path_addr, 0));
  return vfs::Chmod(vfs::ContextFor(t), p, mode);
}

SyscallResult ChownAt(Task& t, int dirfd, uint64_t path_addr, uint32_t uid, uint32_t gid, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  PAL_TRY(VirtualPath p, PathArg(t, dirfd, path_addr, flags));
  return vfs::Chown(vfs::ContextFor(t), p, uid, gid);
}

// utimensat/futimesat/utimes/utime after decoding the times (null = now).
// A null path acts on dirfd itself (futimens), which must not be O_PATH.
SyscallResult UtimesAt(Task& t, int dirfd, uint64_t path_addr, const struct timespec* times, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  VirtualPath p;
  if (!path_addr) {
    if (dirfd == AT_FDCWD) return Errno(EFAULT);
    if (flags & AT_SYMLINK_NOFOLLOW) return Errno(EINVAL);
    PAL_TRY(FileRef f, GetFile(t, dirfd, FileNeed::kNotPath));
    p = vfs::PathOf(*f);
    if (!p.valid()) return int64_t{0};  // pipes/sockets: their times are not kept
  } else {
    PAL_TRY(p, PathArg(t, dirfd, path_addr, flags));
  }
  return vfs::Utimens(vfs::ContextFor(t), p, times);
}

bool ValidNsec(long nsec) { return nsec == UTIME_NOW || nsec == UTIME_OMIT || (nsec >= 0 && nsec < 1000000000); }

// utimes/futimesat's struct timeval[2]; null pointer = now.
SyscallResult TimevalsAt(Task& t, int dirfd, uint64_t path_addr, uint64_t tv_addr) {
  if (!tv_addr) return UtimesAt(t, dirfd, path_addr, nullptr, 0);
  struct timeval tv[2];
  PAL_TRY_ERRNO(t.CopyIn(tv_addr, tv, sizeof(tv)));
  struct timespec ts[2];
  for (int i = 0; i < 2; i++) {
    if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) return Errno(EINVAL);
    ts[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
  }
  return UtimesAt(t, dirfd, path_addr, ts, 0);
}

// The fd-based calls that need an open file with a path (fchmod, fchown).
ErrnoOr<VirtualPath> OpenFilePath(Task& t, int fd, bool* anonymous) {
  PAL_TRY(FileRef f, GetFile(t, fd, FileNeed::kNotPath));
  VirtualPath p = vfs::PathOf(*f);
  *anonymous = !p.valid();
  return p;
}

}  // namespace

SyscallResult Stat(Task& t, const SyscallArgs& a) { return StatAt(t, AT_FDCWD, a[0].Ptr(), a[1].Ptr(), 0); }
SyscallResult Lstat(Task& t, const SyscallArgs& a) {
  return StatAt(t, AT_FDCWD, a[0].Ptr(), a[1].Ptr(), AT_SYMLINK_NOFOLLOW);
}
SyscallResult Newfstatat(Task& t, const SyscallArgs& a) {
  return StatAt(t, a[0].Fd(), a[1].Ptr(), a[2].Ptr(), a[3].Int());
}

SyscallResult Fstat(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kAny));
  PAL_TRY(struct stat st, f->Stat(t));
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), st));
  return int64_t{0};
}

SyscallResult Statx(Task& t, const SyscallArgs& a) {
  int dirfd = a[0].Fd(), flags = a[2].Int();
  uint32_t mask = a[3].Uint();
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) return Errno(EINVAL);
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return Errno(EINVAL);
  if (mask & STATX__RESERVED) return Errno(EINVAL);
  PAL_TRY(InodeAttr at, AttrAt(t, dirfd, a[1].Ptr(), flags & ~AT_STATX_SYNC_TYPE));
  struct statx sx {};
  sx.stx_mask = STATX_BASIC_STATS;
  sx.stx_blksize = static_cast<uint32_t>(at.blksize);
  sx.stx_nlink = static_cast<uint32_t>(at.nlink);
  sx.stx_uid = at.uid;
  sx.stx_gid = at.gid;
  sx.stx_mode = static_cast<uint16_t>(at.mode);
  sx.stx_ino = at.ino;
  sx.stx_size = static_cast<uint64_t>(at.size);
  sx.stx_blocks = static_cast<uint64_t>(at.blocks);
  sx.stx_atime = {at.atime.tv_sec, static_cast<uint32_t>(at.atime.tv_nsec), 0};
  sx.stx_mtime = {at.mtime.tv_sec, static_cast<uint32_t>(at.mtime.tv_nsec), 0};
  sx.stx_ctime = {at.ctime.tv_sec, static_cast<uint32_t>(at.ctime.tv_nsec), 0};
  if (at.btime.tv_sec || at.btime.tv_nsec) {
    sx.stx_mask |= STATX_BTIME;
    sx.stx_btime = {at.btime.tv_sec, static_cast<uint32_t>(at.btime.tv_nsec), 0};
  }
  sx.stx_rdev_major = major(at.rdev);
  sx.stx_rdev_minor = minor(at.rdev);
  sx.stx_dev_major = major(at.dev);
  sx.stx_dev_minor = minor(at.dev);
  PAL_TRY_ERRNO(t.CopyOutObj(a[4].Ptr(), sx));
  return int64_t{0};
}

SyscallResult Statfs(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::string path, CopyInPath(t, a[0].Ptr()));
  PAL_TRY(VirtualPath p, vfs::Resolve(vfs::ContextFor(t), AT_FDCWD, path, {.follow = true}));
  PAL_TRY(struct statfs s, vfs::StatFsOf(p));
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), s));
  return int64_t{0};
}

SyscallResult Fstatfs(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kAny));
  struct statfs s {};
  VirtualPath p = vfs::PathOf(*f);
  if (p.valid()) {
    PAL_TRY(s, vfs::StatFsOf(p));
  } else {
    // Anonymous files: the pseudo filesystem Linux would name.
    std::string name = f->DisplayName();
    s.f_type = name.rfind("pipe:", 0) == 0 ? PIPEFS_MAGIC
               : name.rfind("socket:", 0) == 0 ? SOCKFS_MAGIC
                                               : ANON_INODE_FS_MAGIC;
    s.f_bsize = s.f_frsize = 4096;
    s.f_namelen = 255;
    s.f_flags = 0x20;  // ST_VALID
  }
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), s));
  return int64_t{0};
}

SyscallResult Faccessat2(Task& t, const SyscallArgs& a) {
  int flags = a[3].Int();
  std::string path;
  if (a[1].Ptr() || !(flags & AT_EMPTY_PATH)) {
    PAL_TRY(path, CopyInPath(t, a[1].Ptr()));
  }
  return vfs::Access(vfs::ContextFor(t), a[0].Fd(), path, a[2].Int(), flags);
}

SyscallResult Access(Task& t, const SyscallArgs& a) {
  SyscallArgs b = a;
  b.args = {SyscallArg{static_cast<uint64_t>(AT_FDCWD)}, a[0], a[1], SyscallArg{0}};
  return Faccessat2(t, b);
}

SyscallResult Faccessat(Task& t, const SyscallArgs& a) {
  SyscallArgs b = a;
  b.args[3] = SyscallArg{0};  // faccessat(2) has no flags argument
  return Faccessat2(t, b);
}

SyscallResult Readlink(Task& t, const SyscallArgs& a) {
  return ReadlinkAt(t, AT_FDCWD, a[0].Ptr(), a[1].Ptr(), a[2].Int());
}
SyscallResult Readlinkat(Task& t, const SyscallArgs& a) {
  return ReadlinkAt(t, a[0].Fd(), a[1].Ptr(), a[2].Ptr(), a[3].Int());
}

SyscallResult Chmod(Task& t, const SyscallArgs& a) { return ChmodAt(t, AT_FDCWD, a[0].Ptr(), a[1].Mode()); }
SyscallResult Fchmodat(Task& t, const SyscallArgs& a) { return ChmodAt(t, a[0].Fd(), a[1].Ptr(), a[2].Mode()); }

SyscallResult Fchmod(Task& t, const SyscallArgs& a) {
  bool anonymous;
  PAL_TRY(VirtualPath p, OpenFilePath(t, a[0].Fd(), &anonymous));
  if (anonymous) return int64_t{0};  // pipes/sockets: modes not enforced, nothing to keep
  return vfs::Chmod(vfs::ContextFor(t), p, a[1].Mode());
}

SyscallResult Chown(Task& t, const SyscallArgs& a) {
  return ChownAt(t, AT_FDCWD, a[0].Ptr(), a[1].Uint(), a[2].Uint(), 0);
}
SyscallResult Lchown(Task& t, const SyscallArgs& a) {
  return ChownAt(t, AT_FDCWD, a[0].Ptr(), a[1].Uint(), a[2].Uint(), AT_SYMLINK_NOFOLLOW);
}
SyscallResult Fchownat(Task& t, const SyscallArgs& a) {
  return ChownAt(t, a[0].Fd(), a[1].Ptr(), a[2].Uint(), a[3].Uint(), a[4].Int());
}

SyscallResult Fchown(Task& t, const SyscallArgs& a) {
  bool anonymous;
  PAL_TRY(VirtualPath p, OpenFilePath(t, a[0].Fd(), &anonymous));
  if (anonymous) return int64_t{0};
  return vfs::Chown(vfs::ContextFor(t), p, a[1].Uint(), a[2].Uint());
}

SyscallResult Utimensat(Task& t, const SyscallArgs& a) {
  struct timespec ts[2];
  const struct timespec* times = nullptr;
  if (a[2].Ptr()) {
    PAL_TRY_ERRNO(t.CopyIn(a[2].Ptr(), ts, sizeof(ts)));
    if (!ValidNsec(ts[0].tv_nsec) || !ValidNsec(ts[1].tv_nsec)) return Errno(EINVAL);
    times = ts;
  }
  return UtimesAt(t, a[0].Fd(), a[1].Ptr(), times, a[3].Int());
}

SyscallResult Utimes(Task& t, const SyscallArgs& a) { return TimevalsAt(t, AT_FDCWD, a[0].Ptr(), a[1].Ptr()); }
SyscallResult Futimesat(Task& t, const SyscallArgs& a) { return TimevalsAt(t, a[0].Fd(), a[1].Ptr(), a[2].Ptr()); }

SyscallResult Utime(Task& t, const SyscallArgs& a) {
  if (!a[1].Ptr()) return UtimesAt(t, AT_FDCWD, a[0].Ptr(), nullptr, 0);
  struct utimbuf ub {};
  PAL_TRY_ERRNO(t.CopyInObj(a[1].Ptr(), ub));
  struct timespec ts[2] = {{ub.actime, 0}, {ub.modtime, 0}};
  return UtimesAt(t, AT_FDCWD, a[0].Ptr(), ts, 0);
}

SyscallResult Truncate(Task& t, const SyscallArgs& a) {
  if (a[1].Int64() < 0) return Errno(EINVAL);
  PAL_TRY(std::string path, CopyInPath(t, a[0].Ptr()));
  vfs::PathContext ctx = vfs::ContextFor(t);
  PAL_TRY(VirtualPath p, vfs::Resolve(ctx, AT_FDCWD, path, {.follow = true}));
  if (auto attr = p.dentry->inode()->GetAttr(); attr.ok() && S_ISREG(attr->mode)) {
    PAL_TRY_ERRNO(CheckFileGrowth(t, attr->size, a[1].Int64()));
  }
  return vfs::TruncatePath(ctx, p, a[1].Int64());
}

SyscallResult Ftruncate(Task& t, const SyscallArgs& a) {
  if (a[1].Int64() < 0) return Errno(EINVAL);
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kNotPath));
  if (!f->writable() || !S_ISREG(FileMode(t, *f))) return Errno(EINVAL);
  PAL_TRY(struct stat st, f->Stat(t));
  PAL_TRY_ERRNO(CheckFileGrowth(t, st.st_size, a[1].Int64()));
  PAL_TRY_ERRNO(f->Truncate(t, a[1].Int64()));
  vfs::NotifyFile(*f, IN_MODIFY);
  return int64_t(0);
}

SyscallResult Fallocate(Task& t, const SyscallArgs& a) {
  int mode = a[1].Int();
  int64_t off = a[2].Int64(), len = a[3].Int64();
  if (off < 0 || len <= 0) return Errno(EINVAL);
  // FALLOC_FL_PUNCH_HOLE needs FALLOC_FL_KEEP_SIZE (vfs_fallocate).
  if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)) return Errno(EOPNOTSUPP);
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kWrite));
  uint32_t m = FileMode(t, *f);
  if (S_ISFIFO(m)) return Errno(ESPIPE);
  if (S_ISDIR(m)) return Errno(EISDIR);
  if (!S_ISREG(m) && !S_ISBLK(m)) return Errno(ENODEV);
  int64_t end;
  if (__builtin_add_overflow(off, len, &end)) return Errno(EFBIG);
  if (S_ISREG(m) && !(mode & FALLOC_FL_KEEP_SIZE)) {
    PAL_TRY(struct stat st, f->Stat(t));
    PAL_TRY_ERRNO(CheckFileGrowth(t, st.st_size, end));
  }
  return f->Allocate(t, mode, off, len);
}

SyscallResult Fadvise64(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kNotPath));
  if (S_ISFIFO(FileMode(t, *f))) return Errno(ESPIPE);
  int advice = a[3].Int();
  if (advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE || a[2].Int64() < 0) return Errno(EINVAL);
  return int64_t{0};  // advice only: the sentry keeps no page cache to tune
}

SyscallResult Fsync(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kNotPath));
  if (S_ISFIFO(FileMode(t, *f)) || S_ISSOCK(FileMode(t, *f))) return Errno(EINVAL);
  return f->Sync(t);
}
SyscallResult Fdatasync(Task& t, const SyscallArgs& a) { return Fsync(t, a); }

SyscallResult Sync(Task& t, const SyscallArgs& a) { return int64_t{0}; }  // writes are not buffered by the sentry

SyscallResult Syncfs(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kNotPath));
  (void)f;  // only the fd's validity matters: nothing is buffered
  return int64_t{0};
}

}  // namespace palisade::sys
