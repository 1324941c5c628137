// The VFS entry points the rest of the sentry uses: path resolution with
// Linux semantics (symlinks, "..", mounts, magic links, permission
// checks with the task's credentials), open, and the mount namespace.
//
//   PAL_TRY(FileRef f, vfs::OpenAt(t, AT_FDCWD, "/etc/passwd", O_RDONLY, 0));
//   PAL_TRY(VirtualPath p, vfs::Resolve(t, AT_FDCWD, "/bin", {.follow = true}));
//
// Every Task-taking entry point is a thin wrapper (vfs_task.cc) over a
// core that takes a PathContext: the pieces of a task a walk needs (root,
// cwd, credentials, fd table, umask). The core needs no Task, so unit tests
// drive it with a hand-built context:
//
//   vfs::PathContext ctx{.root = ns->RootPath(), .cwd = ns->RootPath(), .creds = c, .fds = &fds};
//   PAL_TRY(VirtualPath p, vfs::Resolve(ctx, AT_FDCWD, "a/b", {}));
//
// Namespace operations (mkdir, unlink, rename ...) and attribute changes
// (chmod, chown, utimens, truncate, access) are in vfs_ops.h.
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
class FdTable;
}

namespace palisade::vfs {

inline constexpr int kMaxSymlinkHops = 40;  // ELOOP past it, as Linux
inline constexpr size_t kNameMax = 255;     // ENAMETOOLONG past it (NAME_MAX)
inline constexpr size_t kPathMax = 4096;    // ENAMETOOLONG at it (PATH_MAX, incl. NUL)

// A fresh filesystem identity (Inode::FsId) for a new filesystem instance.
// Never 0; also usable as the minor of an anonymous device number.
uint64_t AllocateFsId();

// The mount tree of the sandbox (one per sandbox for now).
class MountNamespace {
 public:
  explicit MountNamespace(std::shared_ptr<Mount> root) : root_(std::move(root)) {}
  const std::shared_ptr<Mount>& root() const { return root_; }
  VirtualPath RootPath() const { return {root_, root_->root()}; }
  // Attaches a filesystem whose root is `root` at `at`: a directory on a
  // directory, or a file on a file (bind mounts); ENOTDIR otherwise.
  ErrnoOr<std::shared_ptr<Mount>> AddMount(const VirtualPath& at, InodeRef root, std::string fstype,
                                           std::string source, int flags);
  // The mount on top of (mount, inode at that path), if any: the
  // top-most of a stack of mounts on the same point.
  std::shared_ptr<Mount> MountedOn(const Mount& parent, const Inode& mountpoint) const;
  // Same, by identity: (fs id, st_dev, st_ino) of the inode under the
  // mount. The path walk uses this one; it already has the attributes.
  std::shared_ptr<Mount> MountedOn(const Mount& parent, uint64_t fsid, uint64_t dev, uint64_t ino) const;
  // EINVAL unless mount_root is the root of a mount; EBUSY for the
  // namespace root, or if other mounts sit on it.
  Errno Unmount(const VirtualPath& mount_root);
  // umount2(MNT_DETACH): also drops every mount below it.
  Errno Unmount(const VirtualPath& mount_root, bool detach);
  std::vector<std::shared_ptr<Mount>> Mounts() const;  // in mount order, for /proc/mounts

 private:
  struct Entry {
    std::shared_ptr<Mount> mount;
    uint64_t fsid, dev, ino;  // identity of the mountpoint inode in mount->parent()
  };
  mutable std::mutex mu_;
  std::shared_ptr<Mount> root_;
  std::vector<Entry> mounts_;  // excluding root_, in mount order
};

// The sandbox's mount namespace. Boot sets it once, before the first task
// runs; the path walk reads it when a PathContext names none. There is one
// per sentry process because a sentry serves exactly one sandbox.
void SetGlobalMountNamespace(std::shared_ptr<MountNamespace> mns);
std::shared_ptr<MountNamespace> GlobalMountNamespace();  // null before boot set it

// What a path walk needs from the calling task. Cheap to build (one
// Credentials copy); build one per syscall with ContextFor(t).
struct PathContext {
  VirtualPath root;      // "/" of the task, and the ceiling of ".."
  VirtualPath cwd;       // start of relative paths with AT_FDCWD
  Credentials creds;     // fsuid/fsgid/groups/caps for permission checks
  uint32_t umask = 022;  // applied to creation modes
  const FdTable* fds = nullptr;       // for dirfd; null: only AT_FDCWD works (EBADF)
  Task* task = nullptr;               // for magic links; null: read as plain symlinks
  MountNamespace* mounts = nullptr;   // null: GlobalMountNamespace()
};
PathContext ContextFor(Task& t);

// The walk result with the attributes read on the way (saves a GetAttr).
struct ResolvedNode {
  VirtualPath path;
  InodeAttr attr;
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

// --- Task-free cores of the above (same semantics).
ErrnoOr<VirtualPath> Resolve(const PathContext& ctx, int dirfd, std::string_view path, ResolveOptions opts = {});
ErrnoOr<ResolvedNode> ResolveNode(const PathContext& ctx, int dirfd, std::string_view path,
                                  ResolveOptions opts = {});
ErrnoOr<ParentAndName> ResolveParent(const PathContext& ctx, int dirfd, std::string_view path);
ErrnoOr<FileRef> OpenAt(const PathContext& ctx, int dirfd, std::string_view path, int flags, uint32_t mode);
ErrnoOr<FileRef> OpenPath(const PathContext& ctx, const VirtualPath& p, int flags);
ErrnoOr<VirtualPath> StartingPoint(const PathContext& ctx, int dirfd);
Errno CheckPermission(const Credentials& c, const InodeAttr& a, int may);  // Ok or EACCES
Errno CheckPermission(const Credentials& c, Inode& inode, int may);

// The path of an open file (O_PATH ones included); EBADF-free: an
// anonymous file (pipe, socket) gives an invalid VirtualPath.
VirtualPath PathOf(const FileDescription& f);

// Like PathString, and says whether p is under root at all (getcwd
// prefixes "(unreachable)" otherwise).
std::string PathString(const VirtualPath& p, const VirtualPath& root, bool* reachable);

// Same file? Pointer identity first, then (fs id, dev, ino): filesystems
// like the host backend may hand out two Inode objects for one file.
bool SameInode(const InodeRef& a, const InodeRef& b);

}  // namespace palisade::vfs
