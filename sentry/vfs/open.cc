// openat(2) with Linux semantics, Task-free core. Order of checks follows
// fs/namei.c (open_last_lookups, do_open, may_open): O_CREAT's EISDIR and
// EEXIST, then the type checks (ELOOP, ENOTDIR, EISDIR), then EROFS
// before EACCES, then the per-type rules (ENXIO for sockets, nodev).
#include <linux/capability.h>
#include <sys/mount.h>

#include <sys/inotify.h>

#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/inode_file.h"
#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::vfs {

namespace {

constexpr int kMayRead = 4, kMayWrite = 2;

// MAY_* bits an open asks for. O_ACCMODE 3 ("ioctl only") needs both.
int AccessMay(int flags) {
  int may = 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: may = kMayRead; break;
    case O_WRONLY: may = kMayWrite; break;
    default: may = kMayRead | kMayWrite; break;
  }
  if (flags & O_TRUNC) may |= kMayWrite;  // truncation writes, whatever the mode
  return may;
}

// The flags a FileDescription keeps (what F_GETFL shows): Linux drops
// the open-time-only bits and forces O_LARGEFILE on 64-bit.
int StoredFlags(int flags) {
  return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
}

bool WriteNeedsRw(uint32_t type) { return type == S_IFREG || type == S_IFDIR || type == S_IFLNK; }

}  // namespace

// Creates name in dir for O_CREAT; owner, setgid inheritance and umask as
// inode_init_owner(). Used by OpenAt only.
static ErrnoOr<ResolvedNode> CreateRegular(const PathContext& ctx, const ResolvedNode& dir,
                                           const std::string& name, uint32_t mode) {
  if (name.size() > kNameMax) return Errno(ENAMETOOLONG);
  if (dir.path.mount->readonly()) return Errno(EROFS);
  PAL_TRY_ERRNO(CheckPermission(ctx.creds, dir.attr, 2 | 1));
  Credentials c = ctx.creds;
  if (dir.attr.mode & S_ISGID) c.fsgid = dir.attr.gid;
  uint32_t perm = mode & 07777 & ~ctx.umask;
  if ((perm & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !c.InGroup(c.fsgid) && !c.HasCap(CAP_FSETID)) {
    perm &= ~S_ISGID;
  }
  PAL_TRY(InodeRef inode, dir.path.dentry->inode()->Create(name, S_IFREG | perm, c));
  NotifyChild(*dir.path.dentry->inode(), name, IN_CREATE);
  PAL_TRY(InodeAttr a, inode->GetAttr());
  return ResolvedNode{VirtualPath{dir.path.mount, std::make_shared<Dentry>(name, dir.path.dentry, inode)}, a};
}

static ErrnoOr<FileRef> OpenNode(const PathContext& ctx, const ResolvedNode& n, int flags, bool created) {
  const uint32_t type = n.attr.mode & S_IFMT;
  const InodeRef& inode = n.path.dentry->inode();
  if (flags & O_PATH) {
    if ((flags & O_DIRECTORY) && type != S_IFDIR) return Errno(ENOTDIR);
    FileRef f = std::make_shared<PathFile>(inode, StoredFlags(flags));
    f->set_path(n.path.mount, n.path.dentry);
    return f;
  }
  if (type == S_IFLNK) return Errno(ELOOP);  // only reached with O_NOFOLLOW
  if ((flags & O_DIRECTORY) && type != S_IFDIR) return Errno(ENOTDIR);
  const int may = AccessMay(flags);
  if (type == S_IFDIR && (may & kMayWrite)) return Errno(EISDIR);
  if (!created) {
    // A file we just created may be opened in any mode (open(2), O_CREAT).
    if ((may & kMayWrite) && n.path.mount->readonly() && WriteNeedsRw(type)) return Errno(EROFS);
    PAL_TRY_ERRNO(CheckPermission(ctx.creds, n.attr, may));
  }
  if (type == S_IFSOCK) return Errno(ENXIO);
  if ((type == S_IFCHR || type == S_IFBLK) && (n.path.mount->flags() & MS_NODEV)) return Errno(EACCES);
  if ((flags & O_NOATIME) && ctx.creds.fsuid != n.attr.uid && !ctx.creds.HasCap(CAP_FOWNER)) {
    return Errno(EPERM);
  }
  // O_NOCTTY reaches character devices: a pty replica needs it to decide
  // whether its opener acquires it as controlling terminal.
  OpenRequest req{StoredFlags(flags) | (type == S_IFCHR ? (flags & O_NOCTTY) : 0), &ctx.creds, ctx.task};
  PAL_TRY(FileRef f, inode->Open(req));
  f->set_path(n.path.mount, n.path.dentry);
  if ((flags & O_TRUNC) && type == S_IFREG && !created) {
    SetAttrRequest r;
    r.mask = SetAttrRequest::kSize | SetAttrRequest::kMtime | SetAttrRequest::kCtime;
    r.size = 0;
    r.mtime = r.ctime = Now();
    PAL_TRY_ERRNO(inode->SetAttr(r));
    NotifyChange(n.path.dentry, r.mask);
  }
  NotifyPath(n.path.dentry, IN_OPEN);
  return f;
}

ErrnoOr<FileRef> OpenAt(const PathContext& ctx, int dirfd, std::string_view path, int flags, uint32_t mode) {
  // O_TMPFILE (which includes O_DIRECTORY) would need unnamed inodes in
  // every filesystem; refused as filesystems without support do.
  if ((flags & O_TMPFILE) == O_TMPFILE) return Errno(EOPNOTSUPP);
  if (flags & O_PATH) {
    flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
  } else if ((flags & O_CREAT) && (flags & O_DIRECTORY)) {
    return Errno(EINVAL);  // Linux >= 6.4
  }
  PathWalker w(ctx);
  PAL_TRY_ERRNO(w.Start(dirfd, path, /*allow_empty=*/false));
  if (!(flags & O_CREAT)) {
    PAL_TRY(ResolvedNode n, w.Finish(/*follow=*/!(flags & O_NOFOLLOW)));
    return OpenNode(ctx, n, flags, false);
  }
  for (;;) {
    PAL_TRY_ERRNO(w.WalkToFinal());
    ResolvedNode n;
    if (!w.has_final()) {
      n = w.cur();  // "/" or a jump through a magic link
    } else if (w.final_is_dot()) {
      PAL_TRY(n, w.LookupFinal());
    } else {
      if (w.must_be_dir()) return Errno(EISDIR);  // "name/" cannot be created as a file
      ErrnoOr<ResolvedNode> r = w.LookupFinal();
      if (!r.ok()) {
        if (r.error() != Errno(ENOENT)) return r.error();
        PAL_TRY(ResolvedNode created, CreateRegular(ctx, w.cur(), w.final_name(), mode));
        return OpenNode(ctx, created, flags, true);
      }
      n = std::move(*r);
      if (flags & O_EXCL) return Errno(EEXIST);  // even for a (dangling) symlink
      if (S_ISLNK(n.attr.mode)) {
        if (flags & O_NOFOLLOW) return Errno(ELOOP);
        // A dangling link creates its target, as Linux does.
        PAL_TRY_ERRNO(w.FollowFinal(n));
        continue;
      }
    }
    if (flags & O_EXCL) return Errno(EEXIST);
    if (S_ISDIR(n.attr.mode)) return Errno(EISDIR);
    return OpenNode(ctx, n, flags, false);
  }
}

ErrnoOr<FileRef> OpenPath(const PathContext& ctx, const VirtualPath& p, int flags) {
  if (flags & O_PATH) flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
  PAL_TRY(ResolvedNode n, NodeOf(p));
  return OpenNode(ctx, n, flags & ~(O_CREAT | O_EXCL), false);
}

}  // namespace palisade::vfs
