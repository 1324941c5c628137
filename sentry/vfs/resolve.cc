// The Task-free resolution entry points of vfs.h (Resolve, ResolveParent,
// StartingPoint, permission checks) and path rendering (PathString).

#include <algorithm>

#include "sentry/kernel/fd_table.h"
#include "sentry/vfs/path_walk.h"

namespace palisade::vfs {

VirtualPath PathOf(const FileDescription& f) { return VirtualPath{f.mount(), f.dentry()}; }

bool SameInode(const InodeRef& a, const InodeRef& b) {
  if (a == b) return true;
  if (!a || !b || a->FsId() != b->FsId()) return false;
  auto x = a->GetAttr();
  auto y = b->GetAttr();
  return x.ok() && y.ok() && x->dev == y->dev && x->ino == y->ino;
}

Errno CheckPermission(const Credentials& c, const InodeAttr& a, int may) {
  return c.CanAccess(a.mode, a.uid, a.gid, may) ? Errno::Ok() : Errno(EACCES);
}

Errno CheckPermission(const Credentials& c, Inode& inode, int may) {
  PAL_TRY(InodeAttr a, inode.GetAttr());
  return CheckPermission(c, a, may);
}

ErrnoOr<VirtualPath> StartingPoint(const PathContext& ctx, int dirfd) {
  if (dirfd == AT_FDCWD) {
    if (!ctx.cwd.valid()) return Errno(ENOENT);
    return ctx.cwd;
  }
  if (!ctx.fds) return Errno(EBADF);
  FileRef f = ctx.fds->Get(dirfd);
  if (!f) return Errno(EBADF);
  VirtualPath p = PathOf(*f);
  if (!p.valid()) return Errno(ENOTDIR);  // a pipe, socket, eventfd ...
  PAL_TRY(InodeAttr a, p.dentry->inode()->GetAttr());
  if (!S_ISDIR(a.mode)) return Errno(ENOTDIR);
  return p;
}

ErrnoOr<ResolvedNode> ResolveNode(const PathContext& ctx, int dirfd, std::string_view path,
                                  ResolveOptions opts) {
  PathWalker w(ctx);
  PAL_TRY_ERRNO(w.Start(dirfd, path, opts.allow_empty));
  return w.Finish(opts.follow);
}

ErrnoOr<VirtualPath> Resolve(const PathContext& ctx, int dirfd, std::string_view path, ResolveOptions opts) {
  PAL_TRY(ResolvedNode n, ResolveNode(ctx, dirfd, path, opts));
  return n.path;
}

ErrnoOr<ParentAndName> ResolveParent(const PathContext& ctx, int dirfd, std::string_view path) {
  PathWalker w(ctx);
  PAL_TRY_ERRNO(w.Start(dirfd, path, /*allow_empty=*/false));
  PAL_TRY_ERRNO(w.WalkToFinal());
  ParentAndName r;
  r.parent = w.cur().path;
  if (w.has_final()) r.name = w.final_name();
  r.trailing_slash = w.must_be_dir();
  return r;
}

std::string PathString(const VirtualPath& p, const VirtualPath& root, bool* reachable) {
  if (reachable) *reachable = false;
  if (!p.valid()) return "";
  std::vector<const std::string*> names;
  std::shared_ptr<Mount> m = p.mount;
  std::shared_ptr<Dentry> d = p.dentry;
  bool found = false;
  for (;;) {
    if (root.valid() && m == root.mount && (d == root.dentry || SameInode(d->inode(), root.dentry->inode()))) {
      found = true;
      break;
    }
    if (d == m->root() || !d->parent()) {
      if (!m->parent()) break;  // reached the namespace root without meeting root
      d = m->mountpoint();
      m = m->parent();
      continue;
    }
    names.push_back(&d->name());
    d = d->parent();
  }
  if (reachable) *reachable = found;
  std::string s;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    s += '/';
    s += **it;
  }
  return s.empty() ? "/" : s;
}

std::string PathString(const VirtualPath& p, const VirtualPath& root) { return PathString(p, root, nullptr); }

}  // namespace palisade::vfs
