// Namespace and attribute operations of the VFS with Linux semantics and
// errno precedence: mkdir, mknod, symlink, link, unlink/rmdir, rename,
// readlink, chmod, chown, utimens, truncate, access, statfs, and the
// checks behind chdir/chroot. The syscall handlers (sentry/syscalls/
// sys_dir.cc, sys_stat.cc) copy arguments in and call these; they take a
// PathContext so unit tests can drive them without a Task.
//
//   vfs::PathContext ctx = vfs::ContextFor(t);
//   return vfs::Mkdirat(ctx, dirfd, path, mode);
//
// The filesystem does the change itself (Inode::Mkdir, Rename ...); the
// checks here are the generic ones: permission (write+search on the
// directory, sticky bit), read-only mounts (EROFS), mount points (EBUSY),
// cross-mount links and renames (EXDEV), a directory moved into its own
// subtree (EINVAL).
#pragma once

#include <sys/statfs.h>
#include <time.h>

#include <string>
#include <string_view>

#include "sentry/vfs/vfs.h"

namespace palisade::vfs {

// CLOCK_REALTIME now, for timestamps.
struct timespec Now();

Errno Mkdirat(const PathContext& ctx, int dirfd, std::string_view path, uint32_t mode);
// mode carries the file type (0 = regular). EPERM for devices without
// CAP_MKNOD and for S_IFDIR; EINVAL for unknown types.
Errno Mknodat(const PathContext& ctx, int dirfd, std::string_view path, uint32_t mode, uint64_t dev);
Errno Symlinkat(const PathContext& ctx, std::string_view target, int dirfd, std::string_view path);
// flags: AT_SYMLINK_FOLLOW, AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH).
Errno Linkat(const PathContext& ctx, int olddirfd, std::string_view oldpath, int newdirfd,
             std::string_view newpath, int flags);
// flags: AT_REMOVEDIR (rmdir semantics).
Errno Unlinkat(const PathContext& ctx, int dirfd, std::string_view path, int flags);
// flags: RENAME_NOREPLACE, RENAME_EXCHANGE (RENAME_WHITEOUT: EINVAL).
Errno Renameat(const PathContext& ctx, int olddirfd, std::string_view oldpath, int newdirfd,
               std::string_view newpath, unsigned flags);
// readlinkat(2): EINVAL if not a symlink (ENOENT for "" on a non-link fd).
ErrnoOr<std::string> ReadLinkAt(const PathContext& ctx, int dirfd, std::string_view path);

// Attribute changes on a resolved file (p from Resolve or an fd).
Errno Chmod(const PathContext& ctx, const VirtualPath& p, uint32_t mode);
// uid/gid of (uint32_t)-1 leave that field alone.
Errno Chown(const PathContext& ctx, const VirtualPath& p, uint32_t uid, uint32_t gid);
// times: null = both now; else [atime, mtime] with UTIME_NOW/UTIME_OMIT
// (tv_nsec already validated by the caller).
Errno Utimens(const PathContext& ctx, const VirtualPath& p, const struct timespec* times);
// truncate(2) of a path: EISDIR, EINVAL (not regular), EROFS, EACCES.
// REQUIRES: len >= 0.
Errno TruncatePath(const PathContext& ctx, const VirtualPath& p, int64_t len);
// faccessat2(2): mode F_OK or R/W/X_OK bits; flags AT_EACCESS,
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. Uses the real ids unless AT_EACCESS.
Errno Access(const PathContext& ctx, int dirfd, std::string_view path, int mode, int flags);
// statfs(2) of the filesystem holding p: Inode::StatFs, else plausible
// values from the mount's fstype (tmpfs, proc, sysfs, devpts ...).
ErrnoOr<struct statfs> StatFsOf(const VirtualPath& p);
// A directory the task may enter (chdir, fchdir, chroot): ENOTDIR, EACCES.
Errno CheckEnterable(const PathContext& ctx, const VirtualPath& p);

}  // namespace palisade::vfs
