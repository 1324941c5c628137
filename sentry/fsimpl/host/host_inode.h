// Internal types of the temporary host backend (see host_fs.h).
//
// Lock order: HostFs::mu_ (the inode cache) before HostInode::mu_ (where
// the inode was last seen). Neither is held across a host call that
// could block for long.
#pragma once

#include <sys/stat.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "base/unique_fd.h"
#include "sentry/fsimpl/pipe/fifo.h"
#include "sentry/vfs/inode.h"

namespace palisade::host {

class HostInode;

// One instance of the host filesystem: its identity and a cache that maps
// host (st_dev, st_ino) to the live HostInode, so one host file is one
// Inode (hard links included) and a rename can update where it lives.
class HostFs : public std::enable_shared_from_this<HostFs> {
 public:
  HostFs(uint64_t fsid, bool readonly) : fsid_(fsid), readonly_(readonly) {}
  uint64_t fsid() const { return fsid_; }
  bool readonly() const { return readonly_; }

  // The inode for an O_PATH fd found as `name` in `parent` (null for the
  // root): the cached one (its location refreshed) or a new one.
  std::shared_ptr<HostInode> Intern(UniqueFd fd, const struct stat& st, std::shared_ptr<HostInode> parent,
                                    std::string name);
  // Updates the location of the cached inode of (dev, ino), if any.
  void Relocate(dev_t dev, ino_t ino, std::shared_ptr<HostInode> parent, std::string name);
  void Forget(dev_t dev, ino_t ino);  // from ~HostInode

 private:
  const uint64_t fsid_;
  const bool readonly_;
  std::mutex mu_;
  std::map<std::pair<dev_t, ino_t>, std::weak_ptr<HostInode>> cache_;  // guarded by mu_
};

class HostInode : public Inode {
 public:
  HostInode(std::shared_ptr<HostFs> fs, UniqueFd fd, const struct stat& st, std::shared_ptr<HostInode> parent,
            std::string name);
  ~HostInode() override;

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

  int path_fd() const { return fd_.get(); }
  dev_t host_dev() const { return dev_; }
  ino_t host_ino() const { return ino_; }
  bool is_root() const { return root_; }
  void SetLocation(std::shared_ptr<HostInode> parent, std::string name);
  // A real (non-O_PATH) host fd for this file with open(2) flags, checked
  // to be this inode (ESTALE otherwise).
  ErrnoOr<UniqueFd> Reopen(int flags);

 private:
  // Looks `name` up again after creating it, and fixes ownership (the
  // sandbox's fsuid/fsgid) and mode (the host umask must not apply).
  ErrnoOr<InodeRef> Finish(std::string_view name, const Credentials& c, uint32_t mode);
  Errno CheckWritable() const { return fs_->readonly() ? Errno(EROFS) : Errno::Ok(); }

  std::shared_ptr<HostFs> fs_;
  UniqueFd fd_;  // O_PATH | O_NOFOLLOW
  const dev_t dev_;
  const ino_t ino_;
  const uint32_t type_;  // S_IFMT bits; a host file's type never changes
  const bool root_;      // the tree's root: no parent, location never changes
  // FIFOs in the tree are sandbox pipes (never host pipes). The cache keeps
  // one HostInode per file while anyone uses it, so openers meet here.
  std::unique_ptr<FifoState> fifo_;
  std::mutex mu_;
  std::shared_ptr<HostInode> parent_;  // guarded by mu_; null for the root
  std::string name_;                   // guarded by mu_
};

// Validates a single component from the VFS (defence in depth: the VFS
// never passes these). ENOENT for "", "." and ".."; EINVAL for '/'.
Errno CheckComponent(std::string_view name);

}  // namespace palisade::host
