// The Task-taking entry points of vfs.h: each builds a PathContext from
// the task and calls the Task-free core. Kept apart so the core links
// (and is unit-tested) without the kernel.
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs.h"

namespace palisade::vfs {

PathContext ContextFor(Task& t) {
  PathContext ctx;
  FsContext& fs = t.fs();
  ctx.root = fs.root();
  ctx.cwd = fs.cwd();
  ctx.creds = t.creds();
  ctx.umask = fs.umask();
  ctx.fds = &t.fds();
  ctx.task = &t;
  return ctx;
}

ErrnoOr<VirtualPath> Resolve(Task& t, int dirfd, std::string_view path, ResolveOptions opts) {
  return Resolve(ContextFor(t), dirfd, path, opts);
}

ErrnoOr<ParentAndName> ResolveParent(Task& t, int dirfd, std::string_view path) {
  return ResolveParent(ContextFor(t), dirfd, path);
}

ErrnoOr<FileRef> OpenAt(Task& t, int dirfd, std::string_view path, int flags, uint32_t mode) {
  return OpenAt(ContextFor(t), dirfd, path, flags, mode);
}

ErrnoOr<FileRef> OpenPath(Task& t, const VirtualPath& p, int flags) { return OpenPath(ContextFor(t), p, flags); }

Errno CheckPermission(Task& t, Inode& inode, int may) { return CheckPermission(t.creds(), inode, may); }

ErrnoOr<VirtualPath> StartingPoint(Task& t, int dirfd) { return StartingPoint(ContextFor(t), dirfd); }

}  // namespace palisade::vfs
