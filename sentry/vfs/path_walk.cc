// The path walk (see path_walk.h for the model). Error precedence follows
// Linux's link_path_walk: for each component, the current inode must be a
// directory (ENOTDIR) we may search (EACCES); then the name is looked up
// (ENAMETOOLONG, ENOENT); symlinks count against kMaxSymlinkHops (ELOOP).
#include "sentry/vfs/path_walk.h"

#include "sentry/kernel/fd_table.h"

namespace palisade::vfs {

ErrnoOr<ResolvedNode> NodeOf(const VirtualPath& p) {
  if (!p.valid()) return Errno(ENOENT);
  PAL_TRY(InodeAttr a, p.dentry->inode()->GetAttr());
  return ResolvedNode{p, a};
}

PathWalker::PathWalker(const PathContext& ctx) : ctx_(ctx), mounts_(ctx.mounts) {
  if (!mounts_) {
    // The global namespace outlives every task, so a raw pointer is fine.
    mounts_ = GlobalMountNamespace().get();
  }
}

void PathWalker::PushComponents(std::string_view path) {
  // Split, then push in reverse so the first component ends up at back().
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') i++;
    size_t j = i;
    while (j < path.size() && path[j] != '/') j++;
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) stack_.emplace_back(*it);
}

Errno PathWalker::Start(int dirfd, std::string_view path, bool allow_empty) {
  if (path.size() >= kPathMax) return Errno(ENAMETOOLONG);
  {
    PAL_TRY(root_, NodeOf(ctx_.root));
  }
  if (path.empty()) {
    if (!allow_empty) return Errno(ENOENT);
    // AT_EMPTY_PATH: dirfd itself, whatever kind of file it is.
    if (dirfd == AT_FDCWD) {
      PAL_TRY(cur_, NodeOf(ctx_.cwd));
      return Errno::Ok();
    }
    if (!ctx_.fds) return Errno(EBADF);
    FileRef f = ctx_.fds->Get(dirfd);
    if (!f) return Errno(EBADF);
    PAL_TRY(cur_, NodeOf(PathOf(*f)));
    return Errno::Ok();
  }
  if (path[0] == '/') {
    cur_ = root_;
  } else {
    PAL_TRY(VirtualPath start, StartingPoint(ctx_, dirfd));
    PAL_TRY(cur_, NodeOf(start));
  }
  PushComponents(path);
  must_be_dir_ = !stack_.empty() && path.back() == '/';
  return Errno::Ok();
}

Errno PathWalker::CheckSearchable(const ResolvedNode& dir) const {
  if (!S_ISDIR(dir.attr.mode)) return Errno(ENOTDIR);
  return CheckPermission(ctx_.creds, dir.attr, 1 /* MAY_EXEC */);
}

bool PathWalker::IsRoot(const ResolvedNode& n) const {
  if (n.path.mount != root_.path.mount) return false;
  if (n.path.dentry == root_.path.dentry) return true;
  return n.path.dentry->inode()->FsId() == root_.path.dentry->inode()->FsId() &&
         n.attr.dev == root_.attr.dev && n.attr.ino == root_.attr.ino;
}

Errno PathWalker::CrossMountsDown(ResolvedNode& n) {
  if (!mounts_) return Errno::Ok();
  // Bounded: each iteration moves to a mount added later than the last.
  for (int guard = 0; guard < 1000; guard++) {
    std::shared_ptr<Mount> m =
        mounts_->MountedOn(*n.path.mount, n.path.dentry->inode()->FsId(), n.attr.dev, n.attr.ino);
    if (!m) return Errno::Ok();
    n.path = VirtualPath{m, m->root()};
    PAL_TRY(n.attr, m->root()->inode()->GetAttr());
  }
  return Errno(ELOOP);
}

bool PathWalker::IsMountpoint(const ResolvedNode& n) const {
  return mounts_ &&
         mounts_->MountedOn(*n.path.mount, n.path.dentry->inode()->FsId(), n.attr.dev, n.attr.ino) != nullptr;
}

ErrnoOr<ResolvedNode> PathWalker::Lookup(const ResolvedNode& dir, const std::string& name, bool cross_mounts) {
  if (name.size() > kNameMax) return Errno(ENAMETOOLONG);
  PAL_TRY(InodeRef child, dir.path.dentry->inode()->Lookup(name));
  PAL_TRY(InodeAttr a, child->GetAttr());
  ResolvedNode n{VirtualPath{dir.path.mount, std::make_shared<Dentry>(name, dir.path.dentry, child)}, a};
  if (cross_mounts) PAL_TRY_ERRNO(CrossMountsDown(n));
  return n;
}

Errno PathWalker::StepDotDot() {
  // Never above the task's root: ".." of "/" is "/".
  if (IsRoot(cur_)) return Errno::Ok();
  VirtualPath p = cur_.path;
  // Leave mount roots upward through the mountpoints they cover (a stack
  // of mounts needs several hops), then take one step up in that mount.
  while (p.dentry == p.mount->root() || !p.dentry->parent()) {
    if (!p.mount->parent()) return Errno::Ok();  // the namespace root
    p = VirtualPath{p.mount->parent(), p.mount->mountpoint()};
    PAL_TRY(ResolvedNode at, NodeOf(p));
    if (IsRoot(at)) {
      cur_ = at;
      return Errno::Ok();
    }
  }
  p.dentry = p.dentry->parent();
  PAL_TRY(cur_, NodeOf(p));
  // The parent may have been mounted on since this dentry was walked.
  return CrossMountsDown(cur_);
}

Errno PathWalker::Follow(const ResolvedNode& link, bool final) {
  if (++hops_ > kMaxSymlinkHops) return Errno(ELOOP);
  const InodeRef& inode = link.path.dentry->inode();
  if (ctx_.task) {
    if (FileRef f = inode->MagicLinkTarget(*ctx_.task)) {
      // Jump to the open file itself (anonymous files have no path).
      PAL_TRY(cur_, NodeOf(PathOf(*f)));
      return Errno::Ok();
    }
  }
  PAL_TRY(std::string target, inode->ReadLink());
  if (target.empty()) return Errno(ENOENT);
  if (final && target.back() == '/') must_be_dir_ = true;
  // Relative bodies continue from the link's directory, which is cur_.
  if (target[0] == '/') cur_ = root_;
  PushComponents(target);
  return Errno::Ok();
}

Errno PathWalker::WalkToFinal() {
  while (stack_.size() > 1) {
    PAL_TRY_ERRNO(CheckSearchable(cur_));
    std::string name = std::move(stack_.back());
    stack_.pop_back();
    if (name == ".") continue;
    if (name == "..") {
      PAL_TRY_ERRNO(StepDotDot());
      continue;
    }
    PAL_TRY(ResolvedNode child, Lookup(cur_, name));
    if (S_ISLNK(child.attr.mode)) {
      PAL_TRY_ERRNO(Follow(child, /*final=*/false));
      continue;
    }
    cur_ = std::move(child);
  }
  // Linux checks search permission for the last component's directory too.
  if (!stack_.empty()) PAL_TRY_ERRNO(CheckSearchable(cur_));
  return Errno::Ok();
}

ErrnoOr<ResolvedNode> PathWalker::LookupFinal(bool cross_mounts) {
  const std::string& name = final_name();
  if (name == ".") return cur_;
  if (name == "..") {
    ResolvedNode saved = cur_;
    Errno e = StepDotDot();
    ResolvedNode up = cur_;
    cur_ = std::move(saved);
    if (!e.ok()) return e;
    return up;
  }
  return Lookup(cur_, name, cross_mounts);
}

Errno PathWalker::FollowFinal(const ResolvedNode& link) {
  stack_.pop_back();
  return Follow(link, /*final=*/true);
}

ErrnoOr<ResolvedNode> PathWalker::Finish(bool follow) {
  for (;;) {
    PAL_TRY_ERRNO(WalkToFinal());
    if (!has_final()) break;
    PAL_TRY(ResolvedNode n, LookupFinal());
    if (S_ISLNK(n.attr.mode) && (follow || must_be_dir_)) {
      PAL_TRY_ERRNO(FollowFinal(n));
      continue;
    }
    stack_.pop_back();
    cur_ = std::move(n);
    break;
  }
  if (must_be_dir_ && !S_ISDIR(cur_.attr.mode)) return Errno(ENOTDIR);
  return cur_;
}

}  // namespace palisade::vfs
