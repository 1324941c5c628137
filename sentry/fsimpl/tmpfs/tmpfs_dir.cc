// tmpfs directories: entries, link counts and rename. The VFS has already
// checked permissions, mount points and the "directory into its own
// subtree" case; here are the checks only the directory itself can make
// atomically (existence, emptiness, types), under Filesystem::tree_mu.
#include <dirent.h>

#include <cstdio>  // RENAME_*

#include "sentry/fsimpl/tmpfs/tmpfs_inode.h"
#include "sentry/vfs/inode_file.h"
#include "sentry/vfs/vfs.h"

namespace palisade::tmpfs {

DirInode::DirInode(std::shared_ptr<Filesystem> fs, uint32_t perm, uid_t uid, gid_t gid)
    : TmpfsInode(std::move(fs), S_IFDIR | (perm & 07777), uid, gid) {
  nlink_ = 2;  // its entry in the parent, and its own "."
}

int64_t DirInode::SizeLocked() { return (2 + count_.load()) * kBogoDirentSize; }

DirInode::Slot* DirInode::Find(std::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

void DirInode::Insert(std::string name, std::shared_ptr<TmpfsInode> child) {
  uint64_t cookie = next_cookie_++;
  by_cookie_.emplace(cookie, name);
  by_name_.emplace(std::move(name), Slot{std::move(child), cookie});
  count_.fetch_add(1);
}

std::shared_ptr<TmpfsInode> DirInode::Remove(std::string_view name) {
  auto it = by_name_.find(name);
  std::shared_ptr<TmpfsInode> child = std::move(it->second.inode);
  by_cookie_.erase(it->second.cookie);
  by_name_.erase(it);
  count_.fetch_sub(1);
  return child;
}

ErrnoOr<InodeRef> DirInode::AddChild(std::string_view name, std::shared_ptr<TmpfsInode> child) {
  if (name.size() > vfs::kNameMax) return Errno(ENAMETOOLONG);
  if (Find(name)) return Errno(EEXIST);
  if (links() == 0) return Errno(ENOENT);  // removed while someone held it (rmdir'd cwd)
  if (child->is_dir()) AddLinks(1);
  Insert(std::string(name), child);
  TouchMtimeCtime();
  return InodeRef(std::move(child));
}

ErrnoOr<InodeRef> DirInode::Lookup(std::string_view name) {
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  Slot* s = Find(name);
  if (!s) return Errno(name.size() > vfs::kNameMax ? ENAMETOOLONG : ENOENT);
  return InodeRef(s->inode);
}

ErrnoOr<InodeRef> DirInode::Create(std::string_view name, uint32_t mode, const Credentials& c) {
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  return AddChild(name, std::make_shared<RegularInode>(fs_, mode & 07777, c.fsuid, c.fsgid));
}

ErrnoOr<InodeRef> DirInode::Mkdir(std::string_view name, uint32_t mode, const Credentials& c) {
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  return AddChild(name, std::make_shared<DirInode>(fs_, mode & 07777, c.fsuid, c.fsgid));
}

ErrnoOr<InodeRef> DirInode::Mknod(std::string_view name, uint32_t mode, uint64_t rdev, const Credentials& c) {
  std::shared_ptr<TmpfsInode> node;
  switch (mode & S_IFMT) {
    case S_IFREG: node = std::make_shared<RegularInode>(fs_, mode & 07777, c.fsuid, c.fsgid); break;
    case S_IFIFO: node = std::make_shared<FifoInode>(fs_, mode & 07777, c.fsuid, c.fsgid); break;
    case S_IFSOCK:
    case S_IFCHR:
    case S_IFBLK: node = std::make_shared<TmpfsInode>(fs_, mode, c.fsuid, c.fsgid, rdev); break;
    default: return Errno(EINVAL);
  }
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  return AddChild(name, std::move(node));
}

ErrnoOr<InodeRef> DirInode::Symlink(std::string_view name, std::string_view target, const Credentials& c) {
  if (target.size() >= static_cast<size_t>(kPageSize)) return Errno(ENAMETOOLONG);
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  return AddChild(name, std::make_shared<SymlinkInode>(fs_, std::string(target), c.fsuid, c.fsgid));
}

Errno DirInode::Link(std::string_view name, const InodeRef& target) {
  auto t = std::dynamic_pointer_cast<TmpfsInode>(target);
  if (!t || t->fs_ref() != fs_) return Errno(EXDEV);
  if (t->is_dir()) return Errno(EPERM);
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  if (name.size() > vfs::kNameMax) return Errno(ENAMETOOLONG);
  if (Find(name)) return Errno(EEXIST);
  if (t->links() == 0) return Errno(ENOENT);
  t->AddLinks(1);
  Insert(std::string(name), t);
  TouchMtimeCtime();
  return Errno::Ok();
}

Errno DirInode::Unlink(std::string_view name) {
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  Slot* s = Find(name);
  if (!s) return Errno(ENOENT);
  if (s->inode->is_dir()) return Errno(EISDIR);
  std::shared_ptr<TmpfsInode> child = Remove(name);
  child->AddLinks(-1);
  TouchMtimeCtime();
  return Errno::Ok();
}

Errno DirInode::Rmdir(std::string_view name) {
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  Slot* s = Find(name);
  if (!s) return Errno(ENOENT);
  auto* d = dynamic_cast<DirInode*>(s->inode.get());
  if (!d) return Errno(ENOTDIR);
  if (!d->by_name_.empty()) return Errno(ENOTEMPTY);
  std::shared_ptr<TmpfsInode> child = Remove(name);
  child->SetLinks(0);
  AddLinks(-1);
  TouchMtimeCtime();
  return Errno::Ok();
}

Errno DirInode::Rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) {
  auto* nd = dynamic_cast<DirInode*>(&new_dir);
  if (!nd || nd->fs_ != fs_) return Errno(EXDEV);
  if (new_name.size() > vfs::kNameMax) return Errno(ENAMETOOLONG);
  std::lock_guard<std::mutex> l(fs_->tree_mu);
  Slot* os = Find(old_name);
  if (!os) return Errno(ENOENT);
  std::shared_ptr<TmpfsInode> src = os->inode;
  Slot* ns = nd->Find(new_name);
  std::shared_ptr<TmpfsInode> dst = ns ? ns->inode : nullptr;
  if (flags & RENAME_EXCHANGE) {
    if (!dst) return Errno(ENOENT);
    if (this != nd && src->is_dir() != dst->is_dir()) {
      // The directory among the two changes parent: move its ".." link.
      int delta = src->is_dir() ? 1 : -1;
      nd->AddLinks(delta);
      AddLinks(-delta);
    }
    Remove(old_name);
    nd->Remove(new_name);
    Insert(std::string(old_name), dst);
    nd->Insert(std::string(new_name), src);
    src->TouchCtime();
    dst->TouchCtime();
  } else {
    if (dst) {
      if (flags & RENAME_NOREPLACE) return Errno(EEXIST);
      if (dst == src) return Errno::Ok();
      if (src->is_dir()) {
        auto* dd = dynamic_cast<DirInode*>(dst.get());
        if (!dd) return Errno(ENOTDIR);
        if (!dd->by_name_.empty()) return Errno(ENOTEMPTY);
      } else if (dst->is_dir()) {
        return Errno(EISDIR);
      }
      nd->Remove(new_name);
      if (dst->is_dir()) {
        dst->SetLinks(0);
        nd->AddLinks(-1);
      } else {
        dst->AddLinks(-1);
      }
    }
    Remove(old_name);
    nd->Insert(std::string(new_name), src);
    if (src->is_dir() && this != nd) {
      AddLinks(-1);
      nd->AddLinks(1);
    }
    src->TouchCtime();
  }
  TouchMtimeCtime();
  if (nd != this) nd->TouchMtimeCtime();
  return Errno::Ok();
}

ErrnoOr<std::vector<DirEntry>> DirInode::ReadDir() { return ReadDirAt(0, SIZE_MAX); }

ErrnoOr<std::vector<DirEntry>> DirInode::ReadDirAt(int64_t pos, size_t max) {
  if (pos < 0) return Errno(EINVAL);
  std::vector<DirEntry> out;
  {
    std::lock_guard<std::mutex> l(fs_->tree_mu);
    for (auto it = by_cookie_.lower_bound(static_cast<uint64_t>(pos)); it != by_cookie_.end() && out.size() < max;
         ++it) {
      const Slot& s = by_name_.find(it->second)->second;
      out.push_back(DirEntry{s.inode->ino(), static_cast<uint8_t>(IFTODT(s.inode->type())), it->second,
                             static_cast<int64_t>(it->first + 1)});
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  AccessedLocked();
  return out;
}

ErrnoOr<FileRef> DirInode::Open(const OpenRequest& req) {
  return FileRef(std::make_shared<vfs::DirectoryFile>(shared_from_this(), req.flags));
}

}  // namespace palisade::tmpfs
