#include "sentry/fsimpl/dev/devfs_nodes.h"

#include <dirent.h>

#include <set>

#include "sentry/vfs/inode_file.h"

namespace palisade::dev {
namespace {

uint8_t DirentType(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return DT_DIR;
    case S_IFLNK: return DT_LNK;
    case S_IFCHR: return DT_CHR;
    case S_IFBLK: return DT_BLK;
    case S_IFIFO: return DT_FIFO;
    case S_IFSOCK: return DT_SOCK;
    case S_IFREG: return DT_REG;
    default: return DT_UNKNOWN;
  }
}

}  // namespace

DevfsNode::DevfsNode(DevfsIds ids, InodeAttr attr) : ids_(ids), attr_(attr) {
  attr_.dev = ids.dev;
}

ErrnoOr<InodeAttr> DevfsNode::GetAttr() {
  std::lock_guard<std::mutex> l(attr_mu_);
  return attr_;
}

Errno DevfsNode::SetAttr(const SetAttrRequest& req) {
  std::lock_guard<std::mutex> l(attr_mu_);
  if (req.mask & SetAttrRequest::kMode) attr_.mode = (attr_.mode & S_IFMT) | (req.mode & 07777);
  if (req.mask & SetAttrRequest::kUid) attr_.uid = req.uid;
  if (req.mask & SetAttrRequest::kGid) attr_.gid = req.gid;
  if (req.mask & SetAttrRequest::kAtime) attr_.atime = req.atime;
  if (req.mask & SetAttrRequest::kMtime) attr_.mtime = req.mtime;
  if (req.mask & SetAttrRequest::kCtime) attr_.ctime = req.ctime;
  // kSize: devices and directories have no size to change; ignored.
  return Errno::Ok();
}

DevfsDir::DevfsDir(DevfsIds ids, InodeAttr attr, InodeRef upper)
    : DevfsNode(ids, attr), upper_(std::move(upper)) {}

void DevfsDir::AddEntry(std::string name, InodeRef inode) { table_[std::move(name)] = std::move(inode); }

ErrnoOr<InodeAttr> DevfsDir::GetAttr() {
  PAL_TRY(InodeAttr a, DevfsNode::GetAttr());
  // Link count: ".", the entry in the parent, and each subdirectory's "..".
  a.nlink = 2;
  for (const auto& [name, inode] : table_) {
    auto ca = inode->GetAttr();
    if (ca.ok() && S_ISDIR(ca->mode)) a.nlink++;
  }
  return a;
}

ErrnoOr<InodeRef> DevfsDir::Lookup(std::string_view name) {
  auto it = table_.find(name);
  if (it != table_.end()) return it->second;
  if (upper_) return upper_->Lookup(name);
  return Errno(ENOENT);
}

ErrnoOr<Inode*> DevfsDir::UpperFor(std::string_view name, bool creating) {
  if (InTable(name)) return Errno(creating ? EEXIST : EPERM);
  if (!upper_) return Errno(creating ? EPERM : ENOENT);
  return upper_.get();
}

ErrnoOr<InodeRef> DevfsDir::Create(std::string_view name, uint32_t mode, const Credentials& c) {
  PAL_TRY(Inode * up, UpperFor(name, true));
  return up->Create(name, mode, c);
}

ErrnoOr<InodeRef> DevfsDir::Mkdir(std::string_view name, uint32_t mode, const Credentials& c) {
  PAL_TRY(Inode * up, UpperFor(name, true));
  return up->Mkdir(name, mode, c);
}

ErrnoOr<InodeRef> DevfsDir::Mknod(std::string_view name, uint32_t mode, uint64_t rdev, const Credentials& c) {
  PAL_TRY(Inode * up, UpperFor(name, true));
  return up->Mknod(name, mode, rdev, c);
}

ErrnoOr<InodeRef> DevfsDir::Symlink(std::string_view name, std::string_view target, const Credentials& c) {
  PAL_TRY(Inode * up, UpperFor(name, true));
  return up->Symlink(name, target, c);
}

Errno DevfsDir::Link(std::string_view name, const InodeRef& target) {
  auto up = UpperFor(name, true);
  if (!up.ok()) return up.error();
  return (*up)->Link(name, target);
}

Errno DevfsDir::Unlink(std::string_view name) {
  auto up = UpperFor(name, false);
  if (!up.ok()) return up.error();
  return (*up)->Unlink(name);
}

Errno DevfsDir::Rmdir(std::string_view name) {
  auto up = UpperFor(name, false);
  if (!up.ok()) return up.error();
  return (*up)->Rmdir(name);
}

Errno DevfsDir::Rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) {
  // Only within one devfs directory's upper part: table entries are fixed,
  // and another devfs directory has its own (or no) upper.
  if (&new_dir != this) return Errno(EXDEV);
  if (InTable(old_name) || InTable(new_name)) return Errno(EPERM);
  if (!upper_) return Errno(ENOENT);
  return upper_->Rename(old_name, *upper_, new_name, flags);
}

ErrnoOr<std::vector<DirEntry>> DevfsDir::ReadDir() {
  std::vector<DirEntry> out;
  std::set<std::string, std::less<>> seen;
  for (const auto& [name, inode] : table_) {
    PAL_TRY(InodeAttr a, inode->GetAttr());
    out.push_back(DirEntry{a.ino, DirentType(a.mode), name});
    seen.insert(name);
  }
  if (upper_) {
    PAL_TRY(std::vector<DirEntry> more, upper_->ReadDir());
    for (DirEntry& e : more) {
      if (!seen.count(e.name)) out.push_back(std::move(e));  // table names hide upper ones
    }
  }
  return out;
}

ErrnoOr<FileRef> DevfsDir::Open(const OpenRequest& req) {
  return FileRef(std::make_shared<vfs::DirectoryFile>(shared_from_this(), req.flags));
}

DevfsSymlink::DevfsSymlink(DevfsIds ids, InodeAttr attr, std::string target)
    : DevfsNode(ids, attr), target_(std::move(target)) {
  attr_.size = static_cast<int64_t>(target_.size());
}

DevfsCharDev::DevfsCharDev(DevfsIds ids, InodeAttr attr, Opener opener)
    : DevfsNode(ids, attr), opener_(std::move(opener)) {}

}  // namespace palisade::dev
