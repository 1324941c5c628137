// Internal types of tmpfs (see tmpfs.h). Three classes of inode share the
// attribute code in TmpfsInode: DirInode (entries), RegularInode (pages)
// and SymlinkInode; FifoInode opens through the pipe filesystem; sockets
// and devices are plain TmpfsInodes.
//
// Lock order: Filesystem::tree_mu (every directory's entries and every
// link count) before TmpfsInode::mu_ (one inode's attributes and, for
// regular files, data). Never two inode mutexes at once.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "sentry/fsimpl/pipe/fifo.h"
#include "sentry/mm/file_memory.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/vfs/inode.h"

namespace palisade::tmpfs {

inline constexpr int64_t kPageSize = 4096;
inline constexpr int64_t kBogoDirentSize = 20;  // directory st_size per entry, as Linux

struct Filesystem {
  uint64_t fsid = 0;
  uint64_t dev = 0;  // st_dev: an anonymous device (major 0)
  std::atomic<uint64_t> next_ino{1};
  std::atomic<int64_t> pages{0};   // data pages allocated, for statfs
  std::atomic<int64_t> inodes{0};  // live inodes, for statfs
  std::mutex tree_mu;
};

class TmpfsInode : public Inode {
 public:
  TmpfsInode(std::shared_ptr<Filesystem> fs, uint32_t mode, uid_t uid, gid_t gid, uint64_t rdev = 0);
  ~TmpfsInode() override;

  ErrnoOr<InodeAttr> GetAttr() override;
  Errno SetAttr(const SetAttrRequest& req) override;
  ErrnoOr<FileRef> Open(const OpenRequest& req) override;  // sockets, devices: ENXIO
  uint64_t FsId() const override { return fs_->fsid; }
  ErrnoOr<struct statfs> StatFs() override;

  Filesystem& fs() const { return *fs_; }
  const std::shared_ptr<Filesystem>& fs_ref() const { return fs_; }
  uint64_t ino() const { return ino_; }
  uint32_t type() const { return type_; }
  bool is_dir() const { return type_ == S_IFDIR; }

  // Attribute updates made by directory operations (REQUIRES: mu_ not held).
  void TouchCtime();
  void TouchMtimeCtime();
  void AddLinks(int64_t delta);  // REQUIRES: fs().tree_mu held
  void SetLinks(uint64_t n);     // REQUIRES: fs().tree_mu held
  uint64_t links();

 protected:
  // Type-specific parts of GetAttr/SetAttr. REQUIRES: mu_ held.
  virtual int64_t SizeLocked() { return 0; }
  virtual int64_t BlocksLocked() { return 0; }
  virtual Errno ResizeLocked(int64_t size);  // EINVAL; EISDIR for dirs
  // relatime: update atime if it is not newer than mtime/ctime or a day old.
  void AccessedLocked();

  std::shared_ptr<Filesystem> fs_;
  const uint64_t ino_;
  const uint32_t type_;
  std::mutex mu_;
  uint32_t mode_;  // permission bits (07777)
  uid_t uid_;
  gid_t gid_;
  uint64_t rdev_;
  uint64_t nlink_ = 1;
  struct timespec atime_ {}, mtime_{}, ctime_{}, btime_{};
};

class SymlinkInode : public TmpfsInode {
 public:
  SymlinkInode(std::shared_ptr<Filesystem> fs, std::string target, uid_t uid, gid_t gid);
  ErrnoOr<std::string> ReadLink() override { return target_; }
  ErrnoOr<FileRef> Open(const OpenRequest& req) override { return Errno(ELOOP); }

 protected:
  int64_t SizeLocked() override { return static_cast<int64_t>(target_.size()); }

 private:
  const std::string target_;
};

// A named pipe: opening it follows fifo(7) through the pipe filesystem.
class FifoInode : public TmpfsInode {
 public:
  FifoInode(std::shared_ptr<Filesystem> fs, uint32_t perm, uid_t uid, gid_t gid)
      : TmpfsInode(std::move(fs), S_IFIFO | (perm & 07777), uid, gid) {}
  ErrnoOr<FileRef> Open(const OpenRequest& req) override { return fifo_.Open(req.task, req.flags); }

 private:
  FifoState fifo_;
};

class DirInode : public TmpfsInode {
 public:
  DirInode(std::shared_ptr<Filesystem> fs, uint32_t perm, uid_t uid, gid_t gid);

  ErrnoOr<InodeRef> Lookup(std::string_view name) override;
  ErrnoOr<InodeRef> Create(std::string_view name, uint32_t mode, const Credentials& c) override;
  ErrnoOr<InodeRef> Mkdir(std::string_view name, uint32_t mode, const Credentials& c) override;
  ErrnoOr<InodeRef> Mknod(std::string_view name, uint32_t mode, uint64_t rdev, const Credentials& c) override;
  ErrnoOr<InodeRef> Symlink(std::string_view name, std::string_view target, const Credentials& c) override;
  Errno Link(std::string_view name, const InodeRef& target) override;
  Errno Unlink(std::string_view name) override;
  Errno Rmdir(std::string_view name) override;
  Errno Rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) override;
  ErrnoOr<std::vector<DirEntry>> ReadDir() override;
  ErrnoOr<std::vector<DirEntry>> ReadDirAt(int64_t pos, size_t max) override;
  ErrnoOr<FileRef> Open(const OpenRequest& req) override;

 protected:
  int64_t SizeLocked() override;
  Errno ResizeLocked(int64_t) override { return Errno(EISDIR); }

 private:
  struct Slot {
    std::shared_ptr<TmpfsInode> inode;
    uint64_t cookie;  // position in by_cookie_
  };
  // All REQUIRE fs().tree_mu held.
  ErrnoOr<InodeRef> AddChild(std::string_view name, std::shared_ptr<TmpfsInode> child);
  void Insert(std::string name, std::shared_ptr<TmpfsInode> child);
  std::shared_ptr<TmpfsInode> Remove(std::string_view name);
  Slot* Find(std::string_view name);

  // Guarded by fs().tree_mu. Cookies only grow, so a getdents cursor
  // (the cookie after the last entry returned) stays valid while
  // entries come and go: new entries appear after it, none repeat.
  std::map<std::string, Slot, std::less<>> by_name_;
  std::map<uint64_t, std::string> by_cookie_;
  uint64_t next_cookie_ = 0;
  std::atomic<int64_t> count_{0};  // by_name_.size(), readable without tree_mu
};

class RegularInode : public TmpfsInode {
 public:
  RegularInode(std::shared_ptr<Filesystem> fs, uint32_t perm, uid_t uid, gid_t gid);

  ErrnoOr<FileRef> Open(const OpenRequest& req) override;
  // Truncation drops mappings of the pages past the new end, which must
  // happen without mu_ held (lock order: mm before file).
  Errno SetAttr(const SetAttrRequest& req) override;

  // Data access shared by the file description and mmap. Reads past the
  // end are short; holes read as zeros.
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off, bool update_atime);
  // append: write at the end (O_APPEND); *end gets the offset after the
  // write. EFBIG past the maximum file size.
  ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off, bool append, int64_t* end);
  // The same from gathered host memory (FileDescription::WriteViews).
  ErrnoOr<int64_t> WriteAt(std::span<const struct iovec> src, int64_t off, bool append, int64_t* end);
  int64_t Size() { return data_.Size(); }
  // SEEK_DATA / SEEK_HOLE at page granularity; ENXIO at or past the end.
  ErrnoOr<int64_t> SeekDataOrHole(int64_t off, bool hole) { return data_.SeekDataOrHole(off, hole); }
  // fallocate(2): mode 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE.
  Errno Allocate(int mode, int64_t off, int64_t len);
  // The pages, shared with MAP_SHARED mappings.
  FileMemory& data() { return data_; }

 protected:
  int64_t SizeLocked() override { return data_.Size(); }
  int64_t BlocksLocked() override { return data_.Pages() * (kPageSize / 512); }

 private:
  // The bytes live in the MemoryFile (see file_memory.h), with their own
  // lock; mu_ guards only the attributes.
  FileMemory data_;
};

// mmap source for a tmpfs regular file.
class TmpfsMappable : public MappableFile {
 public:
  TmpfsMappable(std::shared_ptr<RegularInode> inode, std::string name)
      : inode_(std::move(inode)), name_(std::move(name)) {}
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) override { return inode_->ReadAt(dst, off, false); }
  ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off) override;
  int64_t Size() override { return inode_->Size(); }
  FileMemory* Memory() override { return &inode_->data(); }
  std::string Name() const override { return name_; }
  uint64_t Dev() const override { return inode_->fs().dev; }
  uint64_t Ino() const override { return inode_->ino(); }

 private:
  std::shared_ptr<RegularInode> inode_;
  std::string name_;
};

}  // namespace palisade::tmpfs
