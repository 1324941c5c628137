// Inode: a filesystem object (file, directory, symlink, device ...). Each
// filesystem in sentry/fsimpl/ implements it. Path walking (vfs/path_walk)
// goes Inode to Inode by Lookup(); mounts are found by the (dev, ino) of
// the inode a walk reaches, so filesystems need not keep dentries.
// Permission checks are the VFS's job (it reads GetAttr()), not the
// filesystem's, except where a filesystem knows better (procfs).
//
//   PAL_TRY(auto child, dir->Lookup("etc"));
//   PAL_TRY(InodeAttr a, child->GetAttr());
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/errno.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/file_description.h"

namespace palisade {

struct InodeAttr {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t mode = 0;  // S_IFMT | permission bits
  uint64_t nlink = 1;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t rdev = 0;
  int64_t size = 0;
  int64_t blksize = 4096;
  int64_t blocks = 0;
  struct timespec atime {}, mtime{}, ctime{}, btime{};
};

// Which fields SetAttr changes (any combination).
struct SetAttrRequest {
  enum : uint32_t { kMode = 1, kUid = 2, kGid = 4, kSize = 8, kAtime = 16, kMtime = 32, kCtime = 64 };
  uint32_t mask = 0;
  uint32_t mode = 0;  // permission bits only (07777)
  uint32_t uid = 0, gid = 0;
  int64_t size = 0;
  struct timespec atime {}, mtime{}, ctime{};
};

// What Open() needs to know about the opener.
struct OpenRequest {
  int flags = 0;  // open(2) flags as given (O_CREAT/O_EXCL already handled)
  const Credentials* creds = nullptr;
  Task* task = nullptr;  // may be null (sentry-internal opens, e.g. exec)
};

class Inode : public std::enable_shared_from_this<Inode> {
 public:
  virtual ~Inode() = default;

  virtual ErrnoOr<InodeAttr> GetAttr() = 0;
  virtual Errno SetAttr(const SetAttrRequest& req) { return Errno(EPERM); }

  // --- directories. `name` is one component, never "", "." or "..".
  virtual ErrnoOr<std::shared_ptr<Inode>> Lookup(std::string_view name) { return Errno(ENOTDIR); }
  // Create a regular file (O_CREAT). mode has S_IFREG and perms after umask.
  virtual ErrnoOr<std::shared_ptr<Inode>> Create(std::string_view name, uint32_t mode, const Credentials& c) {
    return Errno(ENOTDIR);
  }
  virtual ErrnoOr<std::shared_ptr<Inode>> Mkdir(std::string_view name, uint32_t mode, const Credentials& c) {
    return Errno(ENOTDIR);
  }
  // mode carries S_IFIFO/S_IFCHR/S_IFBLK/S_IFSOCK/S_IFREG.
  virtual ErrnoOr<std::shared_ptr<Inode>> Mknod(std::string_view name, uint32_t mode, uint64_t rdev,
                                                const Credentials& c) {
    return Errno(EPERM);
  }
  virtual ErrnoOr<std::shared_ptr<Inode>> Symlink(std::string_view name, std::string_view target,
                                                  const Credentials& c) {
    return Errno(ENOTDIR);
  }
  // Hard link `target` (same filesystem, checked by the VFS) under name.
  virtual Errno Link(std::string_view name, const std::shared_ptr<Inode>& target) { return Errno(EPERM); }
  virtual Errno Unlink(std::string_view name) { return Errno(ENOTDIR); }
  virtual Errno Rmdir(std::string_view name) { return Errno(ENOTDIR); }
  // Same filesystem guaranteed by the VFS (else EXDEV). flags: RENAME_*.
  virtual Errno Rename(std::string_view old_name, Inode& new_dir, std::string_view new_name,
                       unsigned flags) {
    return Errno(EPERM);
  }
  // Every entry except "." and "..", in a stable order.
  virtual ErrnoOr<std::vector<DirEntry>> ReadDir() { return Errno(ENOTDIR); }
  // Resumable listing for getdents: at most max entries (never "." or
  // "..") from position pos (0 = start); each entry's `off` is the
  // position just after it. Positions are the filesystem's (opaque,
  // >= 0, increasing). The default indexes ReadDir(), which may skip or
  // repeat entries when the directory changes between calls; filesystems
  // that can do better (tmpfs) override it.
  virtual ErrnoOr<std::vector<DirEntry>> ReadDirAt(int64_t pos, size_t max);

  // --- symlinks
  virtual ErrnoOr<std::string> ReadLink() { return Errno(EINVAL); }
  // /proc "magic links" (/proc/self/fd/N, /proc/self/exe, cwd, root)
  // resolve to a file, not a path string. Null if not magic.
  virtual FileRef MagicLinkTarget(Task& t) { return nullptr; }

  // --- open. Returns a FileDescription for this inode; the VFS sets its
  // path afterwards. O_TRUNC is applied by the VFS through SetAttr.
  virtual ErrnoOr<FileRef> Open(const OpenRequest& req) = 0;

  // Filesystem identity for EXDEV checks and mount lookup.
  virtual uint64_t FsId() const = 0;

  // statfs(2) of the filesystem. ENOSYS (the default) lets the VFS fill
  // plausible values from the mount's fstype (vfs_ops.h StatFsOf).
  virtual ErrnoOr<struct statfs> StatFs() { return Errno(ENOSYS); }
};

using InodeRef = std::shared_ptr<Inode>;

// Converts attributes to the struct stat layout.
struct stat InodeAttrToStat(const InodeAttr& a);
// And back (btime stays unset: struct stat has none).
InodeAttr StatToInodeAttr(const struct stat& st);

}  // namespace palisade
