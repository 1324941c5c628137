// FileDescription building blocks for filesystems whose files are inodes:
//
//  - InodeFile: holds the inode; Stat() and DisplayName() for free.
//  - PathFile: what open(O_PATH) returns for any inode. The syscall layer
//    refuses I/O on O_PATH fds (EBADF) before it gets here; fstat, fchdir,
//    *at() and /proc magic links work.
//  - DirectoryFile: a directory opened for reading. getdents positions:
//    0 is ".", 1 is "..", and 2+p is position p of Inode::ReadDirAt, so a
//    filesystem with stable cursors (tmpfs) never repeats or skips entries
//    across small getdents buffers, and lseek(SEEK_SET, d_off) resumes.
//
//   return std::make_shared<vfs::DirectoryFile>(shared_from_this(), req.flags);
#pragma once

#include <mutex>

#include "sentry/vfs/inode.h"

namespace palisade::vfs {

class InodeFile : public FileDescription {
 public:
  InodeFile(InodeRef inode, int flags) : FileDescription(flags), inode_(std::move(inode)) {}
  const InodeRef& inode() const { return inode_; }
  ErrnoOr<struct stat> Stat(Task& t) override;
  // The path from the mount namespace root (tasks with another root see
  // /proc/<pid>/fd rendered by procfs, which knows the reader's root).
  std::string DisplayName() const override;

 protected:
  InodeRef inode_;
};

class PathFile : public InodeFile {
 public:
  PathFile(InodeRef inode, int flags) : InodeFile(std::move(inode), flags) {}
  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override { return Errno(EBADF); }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override { return Errno(EBADF); }
  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override { return Errno(EBADF); }
  ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off) override { return Errno(EBADF); }
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override { return Errno(EBADF); }
  ErrnoOr<std::vector<DirEntry>> ReadDir(Task& t, size_t max) override { return Errno(EBADF); }
  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override { return Errno(EBADF); }
};

class DirectoryFile : public InodeFile {
 public:
  DirectoryFile(InodeRef inode, int flags) : InodeFile(std::move(inode), flags) {}
  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override { return Errno(EISDIR); }
  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override { return Errno(EISDIR); }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override { return Errno(EISDIR); }
  ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off) override { return Errno(EISDIR); }
  // SEEK_SET and SEEK_CUR only (EINVAL otherwise), as Linux's dcache dirs.
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override { return SeekTo(off, whence); }
  ErrnoOr<std::vector<DirEntry>> ReadDir(Task& t, size_t max) override { return ReadEntries(max); }

  // Task-free bodies of the above (unit tests call them directly).
  ErrnoOr<std::vector<DirEntry>> ReadEntries(size_t max);
  ErrnoOr<int64_t> SeekTo(int64_t off, int whence);

 private:
  std::mutex mu_;
  int64_t pos_ = 0;  // guarded by mu_
};

}  // namespace palisade::vfs
