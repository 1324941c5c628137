// PathWalker: the path_resolution(7) state machine behind Resolve,
// ResolveParent and OpenAt. It walks one component at a time from the
// start directory (root for absolute paths, cwd or dirfd otherwise),
// checking search permission on every directory it passes, crossing
// mounts downward (MountNamespace::MountedOn) and upward on ".." (via
// Mount::parent/mountpoint, never above the task's root), and expanding
// symlinks by pushing their bodies onto the component stack (at most
// kMaxSymlinkHops, then ELOOP). Magic links (/proc/self/fd/N) jump to the
// open file's path instead of being read as text.
//
// The last component is left for the caller, because each operation
// treats it differently (open may create it, unlink must not follow it):
//
//   PathWalker w(ctx);
//   PAL_TRY_ERRNO(w.Start(dirfd, path, /*allow_empty=*/false));
//   PAL_TRY_ERRNO(w.WalkToFinal());       // w.cur() = directory of the last name
//   if (w.has_final()) { ErrnoOr<ResolvedNode> c = w.LookupFinal(); ... }
//
// Internal to sentry/vfs. Not thread-safe (one walker per call).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sentry/vfs/vfs.h"

namespace palisade::vfs {

class PathWalker {
 public:
  explicit PathWalker(const PathContext& ctx);

  // Picks the start directory and splits path into components.
  // ENAMETOOLONG, ENOENT ("" without allow_empty), EBADF, ENOTDIR.
  Errno Start(int dirfd, std::string_view path, bool allow_empty);

  // Walks all but the last component, following symlinks met on the way.
  // Afterwards cur() is the directory that holds the last component and
  // has passed the search-permission check for it; or, when no component
  // is left (path "/", AT_EMPTY_PATH, a final link that jumped), cur() is
  // the result itself.
  Errno WalkToFinal();
  bool has_final() const { return !stack_.empty(); }
  // REQUIRES: has_final().
  const std::string& final_name() const { return stack_.back(); }
  bool final_is_dot() const { return has_final() && (final_name() == "." || final_name() == ".."); }
  // The path ended in "/" (or a final symlink's body did): the result
  // must be a directory.
  bool must_be_dir() const { return must_be_dir_; }
  const ResolvedNode& cur() const { return cur_; }

  // Looks the last component up in cur(), crossing mounts, without
  // consuming it or following a symlink. "." and ".." resolve as steps.
  // REQUIRES: has_final(), after WalkToFinal(). cross_mounts=false gives
  // the covered inode itself (unlink/rmdir/rename act on that one).
  ErrnoOr<ResolvedNode> LookupFinal(bool cross_mounts = true);
  // Is something mounted on n (n in its own mount, not crossed)?
  bool IsMountpoint(const ResolvedNode& n) const;
  // Consumes the last component, a symlink `link` found by LookupFinal,
  // replacing it with the link's body (or jumping, for a magic link).
  // Call WalkToFinal() again afterwards.
  Errno FollowFinal(const ResolvedNode& link);

  // Completes the walk: the last component resolved, followed if it is a
  // symlink and `follow` (or must_be_dir()); ENOTDIR if must_be_dir() and
  // the result is not a directory.
  ErrnoOr<ResolvedNode> Finish(bool follow);

 private:
  ErrnoOr<ResolvedNode> Lookup(const ResolvedNode& dir, const std::string& name, bool cross_mounts = true);
  Errno StepDotDot();
  Errno CrossMountsDown(ResolvedNode& n);
  Errno Follow(const ResolvedNode& link, bool final);
  Errno CheckSearchable(const ResolvedNode& dir) const;
  bool IsRoot(const ResolvedNode& n) const;
  void PushComponents(std::string_view path);

  const PathContext& ctx_;
  MountNamespace* mounts_;
  ResolvedNode root_;
  ResolvedNode cur_;
  std::vector<std::string> stack_;  // remaining components, next at back()
  bool must_be_dir_ = false;
  int hops_ = 0;
};

// Attributes of a path's inode.
ErrnoOr<ResolvedNode> NodeOf(const VirtualPath& p);

}  // namespace palisade::vfs
