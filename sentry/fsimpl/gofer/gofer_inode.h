// Internal types of the gofer client filesystem (see gofer_fs.h).
//
// Lock order: GoferFs::mu_ (the inode cache) before GoferInode::mu_ (the
// cached attributes); neither is held across a gofer call.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "sentry/fsimpl/gofer/client.h"
#include "sentry/fsimpl/gofer/dentry_cache.h"
#include "sentry/fsimpl/pipe/fifo.h"
#include "sentry/mm/file_memory.h"
#include "sentry/vfs/inode.h"

namespace palisade::gofer {

class GoferInode;

class GoferFs : public std::enable_shared_from_this<GoferFs> {
 public:
  // Lookups of a read-only tree are cached (dentry_cache.h); this many.
  static constexpr size_t kDentryCacheSize = 4096;

  GoferFs(std::shared_ptr<Client> client, uint64_t fsid, bool readonly, bool cache_names)
      : client_(std::move(client)),
        fsid_(fsid),
        readonly_(readonly),
        dentries_(readonly && cache_names ? kDentryCacheSize : 0) {}
  Client& client() { return *client_; }
  uint64_t fsid() const { return fsid_; }
  bool readonly() const { return readonly_; }

  // The inode for a node the gofer returned: the live cached one (the new
  // fid is released) or a new one.
  std::shared_ptr<GoferInode> Intern(const proto::Node& node);
  void Forget(uint64_t dev, uint64_t ino);  // from ~GoferInode
  // Empty unless readonly() and asked for. Cached inodes hold this GoferFs, so the root
  // inode empties it when it goes (the mount is gone).
  DentryCache& dentries() { return dentries_; }
  void set_root_fid(uint64_t fid) { root_fid_ = fid; }
  uint64_t root_fid() const { return root_fid_; }

 private:
  std::shared_ptr<Client> client_;
  const uint64_t fsid_;
  const bool readonly_;
  std::mutex mu_;
  std::map<std::pair<uint64_t, uint64_t>, std::weak_ptr<GoferInode>> cache_;  // guarded by mu_
  DentryCache dentries_;
  uint64_t root_fid_ = 0;  // set once, before the root is shared
};

class GoferInode : public Inode {
 public:
  GoferInode(std::shared_ptr<GoferFs> fs, uint64_t fid, const InodeAttr& attr);
  ~GoferInode() override;

  ErrnoOr<InodeAttr> GetAttr() override;
  Errno SetAttr(const SetAttrRequest& req) override;
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
  ErrnoOr<std::string> ReadLink() override;
  ErrnoOr<FileRef> Open(const OpenRequest& req) override;
  uint64_t FsId() const override { return fs_->fsid(); }
  ErrnoOr<struct statfs> StatFs() override;

  uint64_t fid() const { return fid_; }
  uint64_t host_dev() const { return dev_; }
  uint64_t host_ino() const { return ino_; }
  // Drops cached attributes (after a change made through this client).
  void Invalidate();
  // The page cache of this file for private read-only mappings
  // (MappableFile::ImmutablePages), shared while any mapping holds it;
  // null unless the file is on a tree whose names are cached (the rootfs,
  // which nothing in the sandbox can write). fd: the host fd to read from.
  std::shared_ptr<FileMemory> PageCache(const std::shared_ptr<UniqueFd>& fd);

 private:
  Errno CheckWritable() const { return fs_->readonly() ? Errno(EROFS) : Errno::Ok(); }
  ErrnoOr<InodeRef> NodeFrom(const proto::Response& resp);

  std::shared_ptr<GoferFs> fs_;
  const uint64_t fid_;
  const uint64_t dev_, ino_;
  const uint32_t type_;
  std::unique_ptr<FifoState> fifo_;  // FIFOs are sandbox pipes
  std::mutex mu_;
  std::optional<InodeAttr> attr_;  // guarded by mu_; only on read-only filesystems
  // The host fd of a plain O_RDONLY open, kept for the next one while the
  // inode lives: only on a tree whose names are cached (the rootfs), where
  // nothing in the sandbox can write the file. Saves the open round trip.
  std::shared_ptr<UniqueFd> ro_fd_;  // guarded by mu_
  std::weak_ptr<FileMemory> page_cache_;  // guarded by mu_
};

InodeAttr AttrFromProto(const proto::Attr& a);

}  // namespace palisade::gofer
