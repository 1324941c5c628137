// Internal types of the root overlay (see overlay.h).
//
// Lock order: OverlayFs::mu_ (copy-up and every namespace change, one
// lock for the whole overlay: changes to the root filesystem are rare next
// to lookups and I/O) before OverlayInode::mu_ (its upper inode) and the
// layers' own locks. Lookups and I/O take only OverlayInode::mu_.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "sentry/vfs/inode.h"

namespace palisade::overlay {

class OverlayInode;

class OverlayFs : public std::enable_shared_from_this<OverlayFs> {
 public:
  OverlayFs(uint64_t fsid, InodeRef upper_root) : fsid_(fsid), upper_root_(std::move(upper_root)) {}
  uint64_t fsid() const { return fsid_; }
  std::recursive_mutex& mu() { return mu_; }

  // The live node for (upper, lower), or a new one. One node per lower
  // file (by st_dev/st_ino) and per upper-only inode while referenced, so
  // copy-up state is shared by every path that reaches a file.
  std::shared_ptr<OverlayInode> Intern(InodeRef upper, InodeRef lower, std::shared_ptr<OverlayInode> parent,
                                       std::string name);

  // Opaque upper directories (by upper st_ino): they hide the lower layer.
  bool IsOpaque(uint64_t upper_ino);
  void SetOpaque(uint64_t upper_ino);

  // The lower file an upper non-directory was copied up from (its identity
  // and hard links follow it), or null for files made in the container.
  void RecordCopyUp(const InodeRef& upper, const InodeRef& lower);
  InodeRef LowerOf(const InodeRef& upper);

 private:
  const uint64_t fsid_;
  InodeRef upper_root_;
  std::recursive_mutex mu_;
  std::mutex cache_mu_;
  std::map<std::pair<uint64_t, uint64_t>, std::weak_ptr<OverlayInode>> by_lower_;  // guarded by cache_mu_
  std::map<const Inode*, std::weak_ptr<OverlayInode>> by_upper_;                  // guarded by cache_mu_
  std::set<uint64_t> opaque_;                                                      // guarded by cache_mu_
  // Keyed by the upper inode itself (kept alive), so an address reused by a
  // new inode never inherits a pairing.
  std::map<InodeRef, InodeRef, std::owner_less<InodeRef>> copied_up_;  // guarded by cache_mu_
};

class OverlayInode : public Inode {
 public:
  OverlayInode(std::shared_ptr<OverlayFs> fs, InodeRef upper, InodeRef lower, std::shared_ptr<OverlayInode> parent,
               std::string name, uint32_t type, uint64_t lower_dev, uint64_t lower_ino);

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

  InodeRef upper() {
    std::lock_guard<std::mutex> l(mu_);
    return upper_;
  }
  const InodeRef& lower() const { return lower_; }
  uint32_t type() const { return type_; }
  void SetLocation(std::shared_ptr<OverlayInode> parent, std::string name);

  // Makes sure the file has an upper inode (copying it and its parents up).
  // REQUIRES: fs->mu() held.
  Errno CopyUpLocked();

 private:
  friend class OverlayFs;
  // Looks name up in both layers; ENOENT if neither has it (or a whiteout).
  ErrnoOr<std::shared_ptr<OverlayInode>> Child(std::string_view name);
  // Removes a whiteout at name in the upper dir (before creating there);
  // says whether there was one. REQUIRES: fs->mu() held, upper exists.
  ErrnoOr<bool> ClearWhiteoutLocked(std::string_view name);
  // Hides name of the lower layer. REQUIRES: fs->mu() held, upper exists.
  Errno WhiteoutLocked(std::string_view name);
  // After a creation in the upper layer: the new node.
  ErrnoOr<InodeRef> Made(std::string_view name, ErrnoOr<InodeRef> upper, bool was_whiteout);
  bool LowerVisible();  // the lower layer shows through this directory
  // Does the lower layer (seen through this directory) have name?
  bool LowerHas(std::string_view name);

  std::shared_ptr<OverlayFs> fs_;
  const InodeRef lower_;  // null for files created in the container
  const uint32_t type_;   // S_IFMT
  const uint64_t lower_dev_, lower_ino_;
  std::mutex mu_;
  InodeRef upper_;                        // guarded by mu_; set once by copy-up
  std::shared_ptr<OverlayInode> parent_;  // guarded by mu_; null for the root
  std::string name_;                      // guarded by mu_
};

// An open file of the layer that holds the data, presented as the overlay
// inode's (fstat agrees with stat; I/O goes straight to the layer's file).
FileRef WrapFile(std::shared_ptr<OverlayInode> inode, FileRef inner);

// A 0/0 character device in the upper layer marks a removed lower name.
bool IsWhiteout(const InodeAttr& a);

}  // namespace palisade::overlay
