// Paths as the VFS sees them, and a task's filesystem context (root, cwd,
// umask; shared between threads with CLONE_FS, copied on fork).
//
// A Mount is one filesystem instance attached somewhere in the tree; a
// Dentry is one step of a path (name + parent + inode). Dentries are made
// by path walks and kept by whoever holds a VirtualPath, so getcwd() and
// /proc/self/fd can rebuild the path text, and ".." can go up.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "sentry/vfs/inode.h"

namespace palisade {

class Mount;

class Dentry {
 public:
  Dentry(std::string name, std::shared_ptr<Dentry> parent, InodeRef inode)
      : name_(std::move(name)), parent_(std::move(parent)), inode_(std::move(inode)) {}
  const std::string& name() const { return name_; }
  const std::shared_ptr<Dentry>& parent() const { return parent_; }  // null at a mount root
  const InodeRef& inode() const { return inode_; }

 private:
  std::string name_;
  std::shared_ptr<Dentry> parent_;
  InodeRef inode_;
};

class Mount {
 public:
  Mount(InodeRef root, std::shared_ptr<Mount> parent, std::shared_ptr<Dentry> mountpoint,
        std::string fstype, std::string source, int flags)
      : root_(std::make_shared<Dentry>("/", nullptr, std::move(root))),
        parent_(std::move(parent)),
        mountpoint_(std::move(mountpoint)),
        fstype_(std::move(fstype)),
        source_(std::move(source)),
        flags_(flags) {}
  const std::shared_ptr<Dentry>& root() const { return root_; }
  const std::shared_ptr<Mount>& parent() const { return parent_; }        // null for the root mount
  const std::shared_ptr<Dentry>& mountpoint() const { return mountpoint_; }  // in parent
  const std::string& fstype() const { return fstype_; }
  const std::string& source() const { return source_; }
  int flags() const { return flags_.load(); }  // MS_RDONLY, MS_NOEXEC, MS_NOSUID, MS_NODEV
  bool readonly() const { return flags_.load() & 1 /* MS_RDONLY */; }
  // mount(MS_REMOUNT): per-mount flags change in place.
  void set_flags(int flags) { flags_.store(flags); }

 private:
  std::shared_ptr<Dentry> root_;
  std::shared_ptr<Mount> parent_;
  std::shared_ptr<Dentry> mountpoint_;
  std::string fstype_, source_;
  std::atomic<int> flags_;
};

struct VirtualPath {
  std::shared_ptr<Mount> mount;
  std::shared_ptr<Dentry> dentry;
  bool valid() const { return mount && dentry; }
};

class FsContext {
 public:
  VirtualPath root() const { std::lock_guard<std::mutex> l(mu_); return root_; }
  VirtualPath cwd() const { std::lock_guard<std::mutex> l(mu_); return cwd_; }
  void set_root(VirtualPath p) { std::lock_guard<std::mutex> l(mu_); root_ = std::move(p); }
  void set_cwd(VirtualPath p) { std::lock_guard<std::mutex> l(mu_); cwd_ = std::move(p); }
  uint32_t umask() const { return umask_.load(); }
  uint32_t exchange_umask(uint32_t m) { return umask_.exchange(m & 0777); }
  std::shared_ptr<FsContext> Fork() const {
    auto c = std::make_shared<FsContext>();
    std::lock_guard<std::mutex> l(mu_);
    c->root_ = root_;
    c->cwd_ = cwd_;
    c->umask_ = umask_.load();
    return c;
  }

 private:
  mutable std::mutex mu_;
  VirtualPath root_, cwd_;
  std::atomic<uint32_t> umask_{022};
};

}  // namespace palisade
