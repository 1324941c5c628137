// mkdir, mknod, symlink, link, unlink, rmdir, rename and readlink, with
// the checks and errno precedence of fs/namei.c: the parent walk, then
// EEXIST before EROFS for creations (filename_create), EROFS before the
// lookup for removals, then may_create / may_delete.
#include <linux/capability.h>
#include <cstdio>  // RENAME_* (glibc, _GNU_SOURCE)

#include <sys/inotify.h>

#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::vfs {

namespace {

constexpr int kMayWriteExec = 2 | 1;

// The directory and name a creation will use (filename_create()).
struct CreateTarget {
  ResolvedNode dir;
  std::string name;
};

ErrnoOr<CreateTarget> PrepareCreate(const PathContext& ctx, int dirfd, std::string_view path, bool is_dir) {
  PathWalker w(ctx);
  PAL_TRY_ERRNO(w.Start(dirfd, path, false));
  PAL_TRY_ERRNO(w.WalkToFinal());
  if (!w.has_final() || w.final_is_dot()) return Errno(EEXIST);  // "/", ".", ".."
  if (w.final_name().size() > kNameMax) return Errno(ENAMETOOLONG);
  ErrnoOr<ResolvedNode> existing = w.LookupFinal(/*cross_mounts=*/false);
  if (existing.ok()) return Errno(EEXIST);
  if (existing.error() != Errno(ENOENT)) return existing.error();
  if (w.must_be_dir() && !is_dir) return Errno(ENOENT);  // "newfile/"
  if (w.cur().path.mount->readonly()) return Errno(EROFS);
  return CreateTarget{w.cur(), w.final_name()};
}

// may_create(): write and search permission on the directory.
Errno MayCreate(const PathContext& ctx, const ResolvedNode& dir) {
  return CheckPermission(ctx.creds, dir.attr, kMayWriteExec);
}

// The creator's identity for a new inode in dir: a setgid directory
// hands its group down (inode_init_owner()).
Credentials CreatorCreds(const PathContext& ctx, const ResolvedNode& dir) {
  Credentials c = ctx.creds;
  if (dir.attr.mode & S_ISGID) c.fsgid = dir.attr.gid;
  return c;
}

// may_delete(): permission on the directory, the sticky bit, and the
// victim's type against the operation (is_dir: rmdir or a directory
// rename). `mountpoint` is whether something is mounted on the victim.
Errno MayDelete(const PathContext& ctx, const ResolvedNode& dir, const ResolvedNode& victim, bool is_dir,
                bool mountpoint) {
  PAL_TRY_ERRNO(CheckPermission(ctx.creds, dir.attr, kMayWriteExec));
  const Credentials& c = ctx.creds;
  if ((dir.attr.mode & S_ISVTX) && c.fsuid != victim.attr.uid && c.fsuid != dir.attr.uid &&
      !c.HasCap(CAP_FOWNER)) {
    return Errno(EPERM);
  }
  if (is_dir) {
    if (!S_ISDIR(victim.attr.mode)) return Errno(ENOTDIR);
    if (victim.path.dentry == victim.path.mount->root()) return Errno(EBUSY);
  } else if (S_ISDIR(victim.attr.mode)) {
    return Errno(EISDIR);
  }
  if (mountpoint) return Errno(EBUSY);
  return Errno::Ok();
}

// Is `inode` one of the directories on the way from d up to its mount's
// root (d included)? The dentry chain is the path the walk took.
bool IsAncestorOrSelf(const InodeRef& inode, std::shared_ptr<Dentry> d) {
  for (; d; d = d->parent()) {
    if (SameInode(inode, d->inode())) return true;
  }
  return false;
}

Errno Unlink(const PathContext& ctx, PathWalker& w) {
  if (!w.has_final() || w.final_is_dot()) return Errno(EISDIR);
  if (w.cur().path.mount->readonly()) return Errno(EROFS);
  PAL_TRY(ResolvedNode victim, w.LookupFinal(/*cross_mounts=*/false));
  if (w.must_be_dir()) return Errno(S_ISDIR(victim.attr.mode) ? EISDIR : ENOTDIR);
  PAL_TRY_ERRNO(MayDelete(ctx, w.cur(), victim, false, w.IsMountpoint(victim)));
  Inode& dir = *w.cur().path.dentry->inode();
  PAL_TRY_ERRNO(dir.Unlink(w.final_name()));
  // fsnotify_link_count, then (last link) the inode's removal, then the
  // directory's entry, in Linux's order.
  Inode& gone = *victim.path.dentry->inode();
  NotifySelf(gone, IN_ATTRIB);
  if (victim.attr.nlink <= 1) NotifySelf(gone, IN_DELETE_SELF);
  NotifyChild(dir, w.final_name(), IN_DELETE);
  return Errno::Ok();
}

Errno Rmdir(const PathContext& ctx, PathWalker& w) {
  if (!w.has_final()) return Errno(EBUSY);  // "/"
  if (w.final_name() == ".") return Errno(EINVAL);
  if (w.final_name() == "..") return Errno(ENOTEMPTY);
  if (w.cur().path.mount->readonly()) return Errno(EROFS);
  PAL_TRY(ResolvedNode victim, w.LookupFinal(/*cross_mounts=*/false));
  PAL_TRY_ERRNO(MayDelete(ctx, w.cur(), victim, true, w.IsMountpoint(victim)));
  Inode& dir = *w.cur().path.dentry->inode();
  PAL_TRY_ERRNO(dir.Rmdir(w.final_name()));
  NotifySelf(*victim.path.dentry->inode(), IN_DELETE_SELF | IN_ISDIR);
  NotifyChild(dir, w.final_name(), IN_DELETE | IN_ISDIR);
  return Errno::Ok();
}

}  // namespace

struct timespec Now() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

Errno Mkdirat(const PathContext& ctx, int dirfd, std::string_view path, uint32_t mode) {
  PAL_TRY(CreateTarget ct, PrepareCreate(ctx, dirfd, path, /*is_dir=*/true));
  PAL_TRY_ERRNO(MayCreate(ctx, ct.dir));
  uint32_t perm = mode & 01777 & ~ctx.umask;
  if (ct.dir.attr.mode & S_ISGID) perm |= S_ISGID;  // setgid directories propagate
  PAL_TRY(InodeRef ignored, ct.dir.path.dentry->inode()->Mkdir(ct.name, S_IFDIR | perm, CreatorCreds(ctx, ct.dir)));
  (void)ignored;
  NotifyChild(*ct.dir.path.dentry->inode(), ct.name, IN_CREATE | IN_ISDIR);
  return Errno::Ok();
}

Errno Mknodat(const PathContext& ctx, int dirfd, std::string_view path, uint32_t mode, uint64_t dev) {
  uint32_t type = mode & S_IFMT;
  switch (type) {
    case 0: type = S_IFREG; break;
    case S_IFREG: case S_IFIFO: case S_IFSOCK: case S_IFCHR: case S_IFBLK: break;
    case S_IFDIR: return Errno(EPERM);
    default: return Errno(EINVAL);
  }
  PAL_TRY(CreateTarget ct, PrepareCreate(ctx, dirfd, path, /*is_dir=*/false));
  PAL_TRY_ERRNO(MayCreate(ctx, ct.dir));
  if ((type == S_IFCHR || type == S_IFBLK) && !ctx.creds.HasCap(CAP_MKNOD)) return Errno(EPERM);
  uint32_t perm = mode & 07777 & ~ctx.umask;
  uint64_t rdev = (type == S_IFCHR || type == S_IFBLK) ? dev : 0;
  PAL_TRY(InodeRef ignored, ct.dir.path.dentry->inode()->Mknod(ct.name, type | perm, rdev, CreatorCreds(ctx, ct.dir)));
  (void)ignored;
  NotifyChild(*ct.dir.path.dentry->inode(), ct.name, IN_CREATE);
  return Errno::Ok();
}

Errno Symlinkat(const PathContext& ctx, std::string_view target, int dirfd, std::string_view path) {
  if (target.empty()) return Errno(ENOENT);
  if (target.size() >= kPathMax) return Errno(ENAMETOOLONG);
  PAL_TRY(CreateTarget ct, PrepareCreate(ctx, dirfd, path, /*is_dir=*/false));
  PAL_TRY_ERRNO(MayCreate(ctx, ct.dir));
  PAL_TRY(InodeRef ignored, ct.dir.path.dentry->inode()->Symlink(ct.name, target, CreatorCreds(ctx, ct.dir)));
  (void)ignored;
  NotifyChild(*ct.dir.path.dentry->inode(), ct.name, IN_CREATE);
  return Errno::Ok();
}

Errno Linkat(const PathContext& ctx, int olddirfd, std::string_view oldpath, int newdirfd,
             std::string_view newpath, int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  if ((flags & AT_EMPTY_PATH) && !ctx.creds.HasCap(CAP_DAC_READ_SEARCH)) return Errno(ENOENT);
  ResolveOptions ro{.follow = (flags & AT_SYMLINK_FOLLOW) != 0, .allow_empty = (flags & AT_EMPTY_PATH) != 0};
  PAL_TRY(ResolvedNode old, ResolveNode(ctx, olddirfd, oldpath, ro));
  PAL_TRY(CreateTarget ct, PrepareCreate(ctx, newdirfd, newpath, /*is_dir=*/false));
  if (old.path.mount != ct.dir.path.mount) return Errno(EXDEV);
  // fs.protected_hardlinks=1 (the Debian default): no links to files the
  // caller neither owns nor may read and write.
  const Credentials& c = ctx.creds;
  if (c.fsuid != old.attr.uid && !c.HasCap(CAP_FOWNER)) {
    bool safe = S_ISREG(old.attr.mode) && !(old.attr.mode & S_ISUID) &&
                (old.attr.mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
                CheckPermission(c, old.attr, 4 | 2).ok();
    if (!safe) return Errno(EPERM);
  }
  PAL_TRY_ERRNO(MayCreate(ctx, ct.dir));
  if (S_ISDIR(old.attr.mode)) return Errno(EPERM);
  const InodeRef& target = old.path.dentry->inode();
  if (target->FsId() != ct.dir.path.dentry->inode()->FsId()) return Errno(EXDEV);
  if (old.attr.nlink == 0) return Errno(ENOENT);  // an unlinked file through AT_EMPTY_PATH
  PAL_TRY_ERRNO(ct.dir.path.dentry->inode()->Link(ct.name, target));
  NotifySelf(*target, IN_ATTRIB);
  NotifyChild(*ct.dir.path.dentry->inode(), ct.name, IN_CREATE);
  return Errno::Ok();
}

Errno Unlinkat(const PathContext& ctx, int dirfd, std::string_view path, int flags) {
  if (flags & ~AT_REMOVEDIR) return Errno(EINVAL);
  PathWalker w(ctx);
  PAL_TRY_ERRNO(w.Start(dirfd, path, false));
  PAL_TRY_ERRNO(w.WalkToFinal());
  return (flags & AT_REMOVEDIR) ? Rmdir(ctx, w) : Unlink(ctx, w);
}

Errno Renameat(const PathContext& ctx, int olddirfd, std::string_view oldpath, int newdirfd,
               std::string_view newpath, unsigned flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return Errno(EINVAL);
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) return Errno(EINVAL);
  if (flags & RENAME_WHITEOUT) return Errno(EINVAL);  // no whiteouts (overlay-only feature)
  PathWalker ow(ctx), nw(ctx);
  PAL_TRY_ERRNO(ow.Start(olddirfd, oldpath, false));
  PAL_TRY_ERRNO(ow.WalkToFinal());
  PAL_TRY_ERRNO(nw.Start(newdirfd, newpath, false));
  PAL_TRY_ERRNO(nw.WalkToFinal());
  if (!ow.has_final() || ow.final_is_dot()) return Errno(EBUSY);
  if (!nw.has_final() || nw.final_is_dot()) return Errno((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY);
  const ResolvedNode& odir = ow.cur();
  const ResolvedNode& ndir = nw.cur();
  if (odir.path.mount != ndir.path.mount) return Errno(EXDEV);
  if (odir.path.mount->readonly()) return Errno(EROFS);
  if (nw.final_name().size() > kNameMax) return Errno(ENAMETOOLONG);
  PAL_TRY(ResolvedNode src, ow.LookupFinal(/*cross_mounts=*/false));
  ErrnoOr<ResolvedNode> dst = nw.LookupFinal(/*cross_mounts=*/false);
  if (!dst.ok() && dst.error() != Errno(ENOENT)) return dst.error();
  const bool have_dst = dst.ok();
  if ((flags & RENAME_NOREPLACE) && have_dst) return Errno(EEXIST);
  if ((flags & RENAME_EXCHANGE) && !have_dst) return Errno(ENOENT);
  const bool src_dir = S_ISDIR(src.attr.mode);
  const bool dst_dir = have_dst && S_ISDIR(dst->attr.mode);
  if (flags & RENAME_EXCHANGE) {
    if (!dst_dir && nw.must_be_dir()) return Errno(ENOTDIR);
    if (!src_dir && ow.must_be_dir()) return Errno(ENOTDIR);
  } else if (!src_dir && (ow.must_be_dir() || nw.must_be_dir())) {
    return Errno(ENOTDIR);
  }
  const InodeRef& sinode = src.path.dentry->inode();
  // A directory cannot move below itself (lock_rename's "trap").
  if (IsAncestorOrSelf(sinode, ndir.path.dentry)) return Errno(EINVAL);
  if (have_dst && IsAncestorOrSelf(dst->path.dentry->inode(), odir.path.dentry)) {
    return Errno((flags & RENAME_EXCHANGE) ? EINVAL : ENOTEMPTY);
  }
  if (have_dst && SameInode(sinode, dst->path.dentry->inode())) return Errno::Ok();  // hard links: no-op
  PAL_TRY_ERRNO(MayDelete(ctx, odir, src, src_dir, false));
  if (!have_dst) {
    PAL_TRY_ERRNO(MayCreate(ctx, ndir));
  } else {
    PAL_TRY_ERRNO(MayDelete(ctx, ndir, *dst, (flags & RENAME_EXCHANGE) ? dst_dir : src_dir, false));
  }
  const bool same_dir = SameInode(odir.path.dentry->inode(), ndir.path.dentry->inode());
  if (!same_dir) {
    // Moving a directory rewrites its "..": needs write permission on it.
    if (src_dir) PAL_TRY_ERRNO(CheckPermission(ctx.creds, src.attr, 2));
    if ((flags & RENAME_EXCHANGE) && dst_dir) PAL_TRY_ERRNO(CheckPermission(ctx.creds, dst->attr, 2));
  }
  if (ow.IsMountpoint(src) || (have_dst && nw.IsMountpoint(*dst))) return Errno(EBUSY);
  PAL_TRY_ERRNO(
      odir.path.dentry->inode()->Rename(ow.final_name(), *ndir.path.dentry->inode(), nw.final_name(), flags));
  // fsnotify_move: MOVED_FROM and MOVED_TO share a cookie; an exchange
  // is two moves; a replaced target loses a link (and, if its last, goes).
  Inode& od = *odir.path.dentry->inode();
  Inode& nd = *ndir.path.dentry->inode();
  uint32_t cookie = NextMoveCookie();
  uint32_t sdir = src_dir ? IN_ISDIR : 0;
  NotifyChild(od, ow.final_name(), IN_MOVED_FROM | sdir, cookie);
  NotifyChild(nd, nw.final_name(), IN_MOVED_TO | sdir, cookie);
  if (flags & RENAME_EXCHANGE) {
    uint32_t c2 = NextMoveCookie();
    uint32_t ddir = dst_dir ? IN_ISDIR : 0;
    NotifyChild(nd, nw.final_name(), IN_MOVED_FROM | ddir, c2);
    NotifyChild(od, ow.final_name(), IN_MOVED_TO | ddir, c2);
    NotifySelf(*dst->path.dentry->inode(), IN_MOVE_SELF);
  } else if (have_dst) {
    Inode& replaced = *dst->path.dentry->inode();
    if (!dst_dir) NotifySelf(replaced, IN_ATTRIB);
    if (dst_dir || dst->attr.nlink <= 1) NotifySelf(replaced, IN_DELETE_SELF);
  }
  NotifySelf(*sinode, IN_MOVE_SELF);
  return Errno::Ok();
}

ErrnoOr<std::string> ReadLinkAt(const PathContext& ctx, int dirfd, std::string_view path) {
  PAL_TRY(ResolvedNode n, ResolveNode(ctx, dirfd, path, {.follow = false, .allow_empty = true}));
  if (!S_ISLNK(n.attr.mode)) return Errno(path.empty() ? ENOENT : EINVAL);
  return n.path.dentry->inode()->ReadLink();
}

}  // namespace palisade::vfs
