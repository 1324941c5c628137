// MountNamespace: the list of mounts of the sandbox and the lookup the
// path walk does at every step ("is something mounted on this inode?").
// Mounts are found by the identity of the inode they cover, (fs id,
// st_dev, st_ino), because filesystems need not keep one Inode object per
// file (the host backend makes a new one per lookup when uncached).
#include <algorithm>
#include <atomic>

#include "sentry/vfs/vfs.h"

namespace palisade::vfs {

namespace {

std::mutex g_mns_mu;
std::shared_ptr<MountNamespace> g_mns;  // guarded by g_mns_mu

}  // namespace

uint64_t AllocateFsId() {
  // Starts above the minors Linux commonly hands to early anonymous
  // filesystems so the fake st_dev values look ordinary.
  static std::atomic<uint64_t> next{32};
  return next.fetch_add(1);
}

void SetGlobalMountNamespace(std::shared_ptr<MountNamespace> mns) {
  std::lock_guard<std::mutex> l(g_mns_mu);
  g_mns = std::move(mns);
}

std::shared_ptr<MountNamespace> GlobalMountNamespace() {
  std::lock_guard<std::mutex> l(g_mns_mu);
  return g_mns;
}

ErrnoOr<std::shared_ptr<Mount>> MountNamespace::AddMount(const VirtualPath& at, InodeRef root,
                                                         std::string fstype, std::string source,
                                                         int flags) {
  if (!at.valid() || !root) return Errno(EINVAL);
  PAL_TRY(InodeAttr a, at.dentry->inode()->GetAttr());
  PAL_TRY(InodeAttr ra, root->GetAttr());
  // Directories go on directories, files on files (bind mounts of files).
  if (S_ISDIR(a.mode) != S_ISDIR(ra.mode)) return Errno(ENOTDIR);
  auto m = std::make_shared<Mount>(std::move(root), at.mount, at.dentry, std::move(fstype),
                                   std::move(source), flags);
  std::lock_guard<std::mutex> l(mu_);
  mounts_.push_back(Entry{m, at.dentry->inode()->FsId(), a.dev, a.ino});
  return m;
}

std::shared_ptr<Mount> MountNamespace::MountedOn(const Mount& parent, uint64_t fsid, uint64_t dev,
                                                 uint64_t ino) const {
  std::lock_guard<std::mutex> l(mu_);
  // Newest first: the top of a stack of mounts on one point wins.
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
    if (it->mount->parent().get() == &parent && it->fsid == fsid && it->dev == dev && it->ino == ino) {
      return it->mount;
    }
  }
  return nullptr;
}

std::shared_ptr<Mount> MountNamespace::MountedOn(const Mount& parent, const Inode& mountpoint) const {
  {
    // Cheap pre-check: most mounts have nothing mounted below them.
    std::lock_guard<std::mutex> l(mu_);
    bool any = std::any_of(mounts_.begin(), mounts_.end(),
                           [&](const Entry& e) { return e.mount->parent().get() == &parent; });
    if (!any) return nullptr;
  }
  // GetAttr is not const in the Inode interface, but reading attributes
  // does not change the inode.
  auto a = const_cast<Inode&>(mountpoint).GetAttr();
  if (!a.ok()) return nullptr;
  return MountedOn(parent, mountpoint.FsId(), a->dev, a->ino);
}

Errno MountNamespace::Unmount(const VirtualPath& mount_root) { return Unmount(mount_root, false); }

Errno MountNamespace::Unmount(const VirtualPath& mount_root, bool detach) {
  if (!mount_root.valid()) return Errno(EINVAL);
  if (mount_root.dentry != mount_root.mount->root()) return Errno(EINVAL);  // not a mount point
  std::vector<std::shared_ptr<Mount>> dropped;  // released after the lock
  std::lock_guard<std::mutex> l(mu_);
  if (mount_root.mount == root_) return Errno(EBUSY);  // "/" is always in use
  auto it = std::find_if(mounts_.begin(), mounts_.end(),
                         [&](const Entry& e) { return e.mount == mount_root.mount; });
  if (it == mounts_.end()) return Errno(EINVAL);
  // Collect the mount and, transitively, everything mounted below it.
  std::vector<const Mount*> doomed{it->mount.get()};
  for (size_t i = 0; i < doomed.size(); i++) {
    for (const Entry& e : mounts_) {
      if (e.mount->parent().get() == doomed[i]) {
        if (!detach) return Errno(EBUSY);
        doomed.push_back(e.mount.get());
      }
    }
  }
  for (auto e = mounts_.begin(); e != mounts_.end();) {
    if (std::find(doomed.begin(), doomed.end(), e->mount.get()) != doomed.end()) {
      dropped.push_back(std::move(e->mount));
      e = mounts_.erase(e);
    } else {
      ++e;
    }
  }
  return Errno::Ok();
}

std::vector<std::shared_ptr<Mount>> MountNamespace::Mounts() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<Mount>> v{root_};
  for (const Entry& e : mounts_) v.push_back(e.mount);
  return v;
}

}  // namespace palisade::vfs
