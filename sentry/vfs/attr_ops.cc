// Attribute changes (chmod, chown, utimens, truncate), access(2), statfs
// and the enterable-directory check, each with the ownership and
// capability rules of Linux (fs/attr.c setattr_prepare, fs/open.c).
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cstring>

#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::vfs {

namespace {

// statfs f_flags bits the kernel sets that glibc does not name.
constexpr long kStValid = 0x0020, kStRelatime = 0x1000;

bool IsOwner(const Credentials& c, const InodeAttr& a) { return c.fsuid == a.uid || c.HasCap(CAP_FOWNER); }

bool WriteNeedsRw(uint32_t mode) { return S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode); }

// statfs values for filesystems that do not answer Inode::StatFs, by
// mount fstype. Sizes are what an empty instance of each reports.
struct FsTypeRow {
  const char* fstype;
  long magic;
};
constexpr FsTypeRow kFsTypes[] = {
    {"tmpfs", TMPFS_MAGIC},
    {"proc", PROC_SUPER_MAGIC},
    {"sysfs", SYSFS_MAGIC},
    {"devpts", DEVPTS_SUPER_MAGIC},
    {"devtmpfs", TMPFS_MAGIC},  // our /dev is a tmpfs-like fs, as devtmpfs is
    {"dev", TMPFS_MAGIC},
    {"mqueue", 0x19800202},  // MQUEUE_MAGIC (not in linux/magic.h)
    {"cgroup2", CGROUP2_SUPER_MAGIC},
    {"cgroup", CGROUP_SUPER_MAGIC},
    {"overlay", OVERLAYFS_SUPER_MAGIC},
    {"bind", TMPFS_MAGIC},
};

}  // namespace

Errno Chmod(const PathContext& ctx, const VirtualPath& p, uint32_t mode) {
  PAL_TRY(ResolvedNode n, NodeOf(p));
  if (S_ISLNK(n.attr.mode)) return Errno(EOPNOTSUPP);  // Linux has no lchmod
  if (p.mount->readonly()) return Errno(EROFS);
  const Credentials& c = ctx.creds;
  if (!IsOwner(c, n.attr)) return Errno(EPERM);
  SetAttrRequest r;
  r.mask = SetAttrRequest::kMode;
  r.mode = mode & 07777;
  // Not in the file's group: setgid is silently dropped (chmod(2)).
  if (!c.InGroup(n.attr.gid) && !c.HasCap(CAP_FSETID)) r.mode &= ~S_ISGID;
  return p.dentry->inode()->SetAttr(r);
}

Errno Chown(const PathContext& ctx, const VirtualPath& p, uint32_t uid, uint32_t gid) {
  PAL_TRY(ResolvedNode n, NodeOf(p));
  if (p.mount->readonly()) return Errno(EROFS);
  const Credentials& c = ctx.creds;
  const bool set_uid = uid != static_cast<uint32_t>(-1);
  const bool set_gid = gid != static_cast<uint32_t>(-1);
  const bool can_chown = c.HasCap(CAP_CHOWN);
  if (set_uid && !can_chown && !(c.fsuid == n.attr.uid && uid == n.attr.uid)) return Errno(EPERM);
  if (set_gid && !can_chown && !(c.fsuid == n.attr.uid && (c.InGroup(gid) || gid == n.attr.gid))) {
    return Errno(EPERM);
  }
  SetAttrRequest r;
  if (set_uid) {
    r.mask |= SetAttrRequest::kUid;
    r.uid = uid;
  }
  if (set_gid) {
    r.mask |= SetAttrRequest::kGid;
    r.gid = gid;
  }
  // A change of owner drops setuid, and setgid when it means "setgid"
  // (group-exec set) rather than mandatory locking, for non-directories.
  if ((set_uid || set_gid) && !S_ISDIR(n.attr.mode) && !S_ISLNK(n.attr.mode)) {
    uint32_t m = n.attr.mode & 07777;
    uint32_t nm = m & ~S_ISUID;
    if ((m & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) nm &= ~S_ISGID;
    if (nm != m) {
      r.mask |= SetAttrRequest::kMode;
      r.mode = nm;
    }
  }
  if (r.mask == 0) {
    r.mask = SetAttrRequest::kCtime;  // chown(f, -1, -1) still touches ctime
    r.ctime = Now();
  }
  return p.dentry->inode()->SetAttr(r);
}

Errno Utimens(const PathContext& ctx, const VirtualPath& p, const struct timespec* times) {
  PAL_TRY(ResolvedNode n, NodeOf(p));
  if (times && times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT) return Errno::Ok();
  if (p.mount->readonly()) return Errno(EROFS);
  const Credentials& c = ctx.creds;
  auto is_set = [](const struct timespec& ts) { return ts.tv_nsec != UTIME_NOW && ts.tv_nsec != UTIME_OMIT; };
  const bool explicit_times = times && (is_set(times[0]) || is_set(times[1]));
  if (explicit_times) {
    if (!IsOwner(c, n.attr)) return Errno(EPERM);
  } else if (!IsOwner(c, n.attr)) {
    // "Touch to now" is allowed to anyone who may write the file.
    PAL_TRY_ERRNO(CheckPermission(c, n.attr, 2));
  }
  struct timespec now = Now();
  SetAttrRequest r;
  r.mask = SetAttrRequest::kCtime;
  r.ctime = now;
  if (!times || times[0].tv_nsec != UTIME_OMIT) {
    r.mask |= SetAttrRequest::kAtime;
    r.atime = (!times || times[0].tv_nsec == UTIME_NOW) ? now : times[0];
  }
  if (!times || times[1].tv_nsec != UTIME_OMIT) {
    r.mask |= SetAttrRequest::kMtime;
    r.mtime = (!times || times[1].tv_nsec == UTIME_NOW) ? now : times[1];
  }
  return p.dentry->inode()->SetAttr(r);
}

Errno TruncatePath(const PathContext& ctx, const VirtualPath& p, int64_t len) {
  PAL_TRY(ResolvedNode n, NodeOf(p));
  if (S_ISDIR(n.attr.mode)) return Errno(EISDIR);
  if (!S_ISREG(n.attr.mode)) return Errno(EINVAL);
  if (p.mount->readonly()) return Errno(EROFS);
  PAL_TRY_ERRNO(CheckPermission(ctx.creds, n.attr, 2));
  SetAttrRequest r;
  r.mask = SetAttrRequest::kSize | SetAttrRequest::kMtime | SetAttrRequest::kCtime;
  r.size = len;
  r.mtime = r.ctime = Now();
  return p.dentry->inode()->SetAttr(r);
}

Errno Access(const PathContext& ctx, int dirfd, std::string_view path, int mode, int flags) {
  if (mode & ~(R_OK | W_OK | X_OK)) return Errno(EINVAL);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  PathContext c = ctx;
  if (!(flags & AT_EACCESS)) {
    // access(2) asks about the real ids: a non-root real uid loses the
    // capabilities, a root one gets its permitted set even when the
    // effective uid is not 0 (fs/open.c access_override_creds).
    c.creds.fsuid = ctx.creds.ruid;
    c.creds.fsgid = ctx.creds.rgid;
    // (There is no separate permitted set: a root task holds all of them.)
    c.creds.cap_effective = ctx.creds.ruid == 0 ? ~0ull : 0;
  }
  ResolveOptions ro{.follow = !(flags & AT_SYMLINK_NOFOLLOW), .allow_empty = (flags & AT_EMPTY_PATH) != 0};
  PAL_TRY(ResolvedNode n, ResolveNode(c, dirfd, path, ro));
  if (mode == F_OK) return Errno::Ok();
  if ((mode & W_OK) && n.path.mount->readonly() && WriteNeedsRw(n.attr.mode)) return Errno(EROFS);
  return CheckPermission(c.creds, n.attr, mode);
}

ErrnoOr<struct statfs> StatFsOf(const VirtualPath& p) {
  if (!p.valid()) return Errno(EBADF);
  ErrnoOr<struct statfs> own = p.dentry->inode()->StatFs();
  struct statfs s {};
  if (own.ok()) {
    s = *own;
  } else if (own.error() != Errno(ENOSYS)) {
    return own.error();
  } else {
    s.f_type = TMPFS_MAGIC;
    for (const FsTypeRow& row : kFsTypes) {
      if (p.mount->fstype() == row.fstype) s.f_type = row.magic;
    }
    s.f_bsize = 4096;
    s.f_frsize = 4096;
    s.f_namelen = kNameMax;
    if (s.f_type == TMPFS_MAGIC) {
      // An unlimited tmpfs reports zero-sized counts, as Linux does for size=0.
      s.f_blocks = s.f_bfree = s.f_bavail = 0;
    }
    uint64_t id = p.dentry->inode()->FsId();
    s.f_fsid.__val[0] = static_cast<int>(id);
    s.f_fsid.__val[1] = static_cast<int>(id >> 32);
  }
  // Mount flags are the VFS's knowledge, not the filesystem's.
  int mf = p.mount->flags();
  s.f_flags = (s.f_flags & ~(ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC)) | kStValid | kStRelatime;
  if (mf & MS_RDONLY) s.f_flags |= ST_RDONLY;
  if (mf & MS_NOSUID) s.f_flags |= ST_NOSUID;
  if (mf & MS_NODEV) s.f_flags |= ST_NODEV;
  if (mf & MS_NOEXEC) s.f_flags |= ST_NOEXEC;
  return s;
}

Errno CheckEnterable(const PathContext& ctx, const VirtualPath& p) {
  PAL_TRY(ResolvedNode n, NodeOf(p));
  if (!S_ISDIR(n.attr.mode)) return Errno(ENOTDIR);
  return CheckPermission(ctx.creds, n.attr, 1);
}

}  // namespace palisade::vfs
