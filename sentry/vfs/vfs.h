// The VFS entry points the rest of the sentry uses: path resolution with
// Linux semantics (symlinks, "..", mounts, magic links, permission
// checks with the task's credentials), open, and the mount namespace.
//
//   PAL_TRY(FileRef f, vfs::OpenAt(t, AT_FDCWD, "/etc/passwd", O_RDONLY, 0));
//   PAL_TRY(VirtualPath p, vfs::Resolve(t, AT_FDCWD, "/bin", {.follow = true}));
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/errno.h"
#include "sentry/vfs/fs_context.h"

namespace palisade {
class Task;
}

namespace palisade::vfs {

inline constexpr int kMaxSymlinkHops = 40;  // ELOOP past it, as Linux

// The mount tree of the sandbox (one per sandbox for now).
class MountNamespace {
 public:
  explicit MountNamespace(std::shared_ptr<Mount> root) : root_(std::move(root)) {}
  const std::shared_ptr<Mount>& root() const { return root_; }
  VirtualPath RootPath() const { return {root_, root_->root()}; }
  // Attaches a filesystem whose root is `root` at `at` (a directory).
  ErrnoOr<std::shared_ptr<Mount>> AddMount(const VirtualPath& at, InodeRef root, std::string fstype,
                                           std::string source, int flags);
  // The mount on top of (mount, inode at that path), if any: the
  // top-most of a stack of mounts on the same point.
  std::shared_ptr<Mount> MountedOn(const Mount& parent, const Inode& mountpoint) const;
  Errno Unmount(const VirtualPath& mount_root);
  std::vector<std::shared_ptr<Mount>> Mounts() const;  // in mount order, for /proc/mounts

 private:
  mutable std::mutex mu_;
  std::shared_ptr<Mount> root_;
  std::vector<std::shared_ptr<Mount>> mounts_;  // excluding root_
};

struct ResolveOptions {
  bool follow = true;        // follow a symlink in the final component
  bool allow_empty = false;  // AT_EMPTY_PATH: "" means dirfd itself
};

// Resolves path relative to dirfd (AT_FDCWD = cwd) from the task's root.
// Errors as path_resolution(7): ENOENT, ENOTDIR, ELOOP, EACCES (search
// permission), ENAMETOOLONG.
ErrnoOr<VirtualPath> Resolve(Task& t, int dirfd, std::string_view path, ResolveOptions opts = {});

// Resolves all but the last component: returns the parent directory and
// the final name (which may be "." or ".." or empty for "/").
struct ParentAndName {
  VirtualPath parent;
  std::string name;
  bool trailing_slash = false;
};
ErrnoOr<ParentAndName> ResolveParent(Task& t, int dirfd, std::string_view path);

// openat(2) semantics: O_CREAT/O_EXCL/O_TRUNC/O_DIRECTORY/O_NOFOLLOW/
// O_PATH/O_TMPFILE(EOPNOTSUPP ok), permission checks, EROFS on ro mounts,
// EISDIR for writes to dirs, ENXIO/ELOOP as Linux.
ErrnoOr<FileRef> OpenAt(Task& t, int dirfd, std::string_view path, int flags, uint32_t mode);

// Opens an already resolved path (exec, /proc magic links).
ErrnoOr<FileRef> OpenPath(Task& t, const VirtualPath& p, int flags);

// Path text of p as seen from root ("/usr/bin"), for getcwd, /proc/self/fd
// and /proc/self/exe. A path not under root renders relative to the
// mount namespace root.
std::string PathString(const VirtualPath& p, const VirtualPath& root);

// May task access this inode with MAY_* bits (4 read, 2 write, 1 exec)?
Errno CheckPermission(Task& t, Inode& inode, int may);

// The directory fd or cwd a *at() call starts from; EBADF/ENOTDIR.
ErrnoOr<VirtualPath> StartingPoint(Task& t, int dirfd);

}  // namespace palisade::vfs
