// The inode kinds devfs is built from: a directory with a fixed table of
// entries (plus, optionally, a writable "upper" directory for every other
// name), a symlink with a fixed target, and a character device whose
// open() is a function. Attributes live in memory and can be changed by
// chmod/chown/utimes, as on Linux's devtmpfs; they are not persisted.
//
//   auto null = std::make_shared<DevfsCharDev>(fs, Attr(S_IFCHR | 0666, makedev(1, 3)), OpenNull);
//   root->AddEntry("null", null);
//
// Thread-safe. Tables are filled at construction (AddEntry) and fixed
// after the root is handed out.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "sentry/vfs/inode.h"

namespace palisade::dev {

// What every devfs node shares: the filesystem identity.
struct DevfsIds {
  uint64_t fsid = 0;  // Inode::FsId
  uint64_t dev = 0;   // st_dev
};

// Attributes in memory with SetAttr for mode/owner/times (size ignored:
// O_TRUNC on a device does nothing, as Linux).
class DevfsNode : public Inode {
 public:
  DevfsNode(DevfsIds ids, InodeAttr attr);
  ErrnoOr<InodeAttr> GetAttr() override;
  Errno SetAttr(const SetAttrRequest& req) override;
  uint64_t FsId() const override { return ids_.fsid; }

 protected:
  const DevfsIds ids_;
  mutable std::mutex attr_mu_;
  InodeAttr attr_;  // guarded by attr_mu_
};

class DevfsDir final : public DevfsNode {
 public:
  // upper: a directory of another filesystem (a tmpfs root) that takes
  // every name outside the table: lookups fall through to it and
  // creations, removals and renames go to it. Null: the table is all
  // there is, and changing the directory fails with EPERM.
  DevfsDir(DevfsIds ids, InodeAttr attr, InodeRef upper = nullptr);

  // Fills the table. REQUIRES: before the directory is reachable.
  void AddEntry(std::string name, InodeRef inode);

  ErrnoOr<InodeAttr> GetAttr() override;
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
  ErrnoOr<FileRef> Open(const OpenRequest& req) override;

 private:
  bool InTable(std::string_view name) const { return table_.count(std::string(name)) != 0; }
  // EEXIST for table names, the upper directory otherwise, or EPERM.
  ErrnoOr<Inode*> UpperFor(std::string_view name, bool creating);

  std::map<std::string, InodeRef, std::less<>> table_;
  const InodeRef upper_;
};

class DevfsSymlink final : public DevfsNode {
 public:
  DevfsSymlink(DevfsIds ids, InodeAttr attr, std::string target);
  ErrnoOr<std::string> ReadLink() override { return target_; }
  ErrnoOr<FileRef> Open(const OpenRequest& req) override { return Errno(ELOOP); }

 private:
  const std::string target_;
};

class DevfsCharDev final : public DevfsNode {
 public:
  // Makes the open file; gets this inode (for Stat) and the request.
  using Opener = std::function<ErrnoOr<FileRef>(const InodeRef& self, const OpenRequest& req)>;
  DevfsCharDev(DevfsIds ids, InodeAttr attr, Opener opener);
  ErrnoOr<FileRef> Open(const OpenRequest& req) override { return opener_(shared_from_this(), req); }

 private:
  const Opener opener_;
};

}  // namespace palisade::dev
