#include "sentry/vfs/inode_file.h"

#include <dirent.h>

#include "sentry/vfs/vfs.h"

namespace palisade::vfs {

ErrnoOr<struct stat> InodeFile::Stat(Task&) {
  PAL_TRY(InodeAttr a, inode_->GetAttr());
  return InodeAttrToStat(a);
}

std::string InodeFile::DisplayName() const {
  auto mns = GlobalMountNamespace();
  VirtualPath p = PathOf(*this);
  if (!p.valid()) return "anon_inode:[unknown]";
  return PathString(p, mns ? mns->RootPath() : VirtualPath{});
}

ErrnoOr<int64_t> DirectoryFile::SeekTo(int64_t off, int whence) {
  std::lock_guard<std::mutex> l(mu_);
  int64_t np;
  switch (whence) {
    case SEEK_SET: np = off; break;
    case SEEK_CUR:
      if (__builtin_add_overflow(pos_, off, &np)) return Errno(EINVAL);
      break;
    default: return Errno(EINVAL);
  }
  if (np < 0) return Errno(EINVAL);
  pos_ = np;
  return np;
}

ErrnoOr<std::vector<DirEntry>> DirectoryFile::ReadEntries(size_t max) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<DirEntry> out;
  if (max == 0) return out;
  PAL_TRY(InodeAttr self, inode_->GetAttr());
  if (self.nlink == 0) return Errno(ENOENT);  // removed while open (IS_DEADDIR)
  if (pos_ == 0) {
    out.push_back(DirEntry{self.ino, DT_DIR, ".", 1});
    pos_ = 1;
  }
  if (pos_ == 1 && out.size() < max) {
    // ".." of a mount root is the root itself, as Linux reports it.
    std::shared_ptr<Dentry> d = dentry();
    InodeRef up = d && d->parent() ? d->parent()->inode() : inode_;
    PAL_TRY(InodeAttr a, up->GetAttr());
    out.push_back(DirEntry{a.ino, DT_DIR, "..", 2});
    pos_ = 2;
  }
  if (out.size() < max) {
    PAL_TRY(std::vector<DirEntry> more, inode_->ReadDirAt(pos_ - 2, max - out.size()));
    for (DirEntry& e : more) {
      int64_t next = e.off > 0 ? e.off + 2 : pos_ + 1;
      e.off = next;
      pos_ = next;
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace palisade::vfs
