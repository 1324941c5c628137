// tmpfs regular files: the data (a FileMemory in the MemoryFile), the open-file description
// (offset, O_APPEND, SEEK_DATA/SEEK_HOLE, fallocate) and the mmap source.
#include <linux/falloc.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "sentry/fsimpl/tmpfs/tmpfs_inode.h"
#include "sentry/vfs/inode_file.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::tmpfs {

namespace {

class RegularFile : public vfs::InodeFile {
 public:
  RegularFile(std::shared_ptr<RegularInode> inode, int flags)
      : vfs::InodeFile(inode, flags), reg_(std::move(inode)) {}

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override {
    std::lock_guard<std::mutex> l(pos_mu_);
    PAL_TRY(int64_t n, reg_->ReadAt(dst, pos_, !(flags() & O_NOATIME)));
    pos_ += n;
    return n;
  }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override {
    const struct iovec v{const_cast<uint8_t*>(src.data()), src.size()};
    return WriteViews(t, std::span<const struct iovec>(&v, 1), -1);
  }
  bool WritesViews() const override { return true; }
  // off < 0: at the file position, which moves.
  ErrnoOr<int64_t> WriteViews(Task& t, std::span<const struct iovec> src, int64_t off) override {
    if (off >= 0) {
      int64_t end;
      // Linux appends even for pwrite on an O_APPEND file (pwrite(2) BUGS).
      return reg_->WriteAt(src, off, flags() & O_APPEND, &end);
    }
    std::lock_guard<std::mutex> l(pos_mu_);
    int64_t end = pos_;
    PAL_TRY(int64_t n, reg_->WriteAt(src, pos_, flags() & O_APPEND, &end));
    pos_ = end;
    return n;
  }
  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override {
    if (off < 0) return Errno(EINVAL);
    return reg_->ReadAt(dst, off, !(flags() & O_NOATIME));
  }
  ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off) override {
    if (off < 0) return Errno(EINVAL);
    const struct iovec v{const_cast<uint8_t*>(src.data()), src.size()};
    return WriteViews(t, std::span<const struct iovec>(&v, 1), off);
  }
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override {
    std::lock_guard<std::mutex> l(pos_mu_);
    int64_t base;
    switch (whence) {
      case SEEK_SET: base = 0; break;
      case SEEK_CUR: base = pos_; break;
      case SEEK_END: base = reg_->Size(); break;
      case SEEK_DATA:
      case SEEK_HOLE: {
        PAL_TRY(int64_t np, reg_->SeekDataOrHole(off, whence == SEEK_HOLE));
        pos_ = np;
        return np;
      }
      default: return Errno(EINVAL);
    }
    int64_t np;
    if (__builtin_add_overflow(base, off, &np) || np < 0) return Errno(EINVAL);
    pos_ = np;
    return np;
  }
  Errno Truncate(Task& t, int64_t size) override {
    SetAttrRequest r;
    r.mask = SetAttrRequest::kSize | SetAttrRequest::kMtime | SetAttrRequest::kCtime;
    r.size = size;
    r.mtime = r.ctime = vfs::Now();
    return reg_->SetAttr(r);
  }
  Errno Allocate(Task& t, int mode, int64_t off, int64_t len) override { return reg_->Allocate(mode, off, len); }
  std::shared_ptr<MappableFile> Mappable() override {
    return std::make_shared<TmpfsMappable>(reg_, DisplayName());
  }

 private:
  std::shared_ptr<RegularInode> reg_;
  std::mutex pos_mu_;
  int64_t pos_ = 0;  // guarded by pos_mu_
};

}  // namespace

RegularInode::RegularInode(std::shared_ptr<Filesystem> fs, uint32_t perm, uid_t uid, gid_t gid)
    : TmpfsInode(std::move(fs), S_IFREG | (perm & 07777), uid, gid),
      data_(MemoryFile::ForFiles(), &fs_->pages) {}

ErrnoOr<FileRef> RegularInode::Open(const OpenRequest& req) {
  auto self = std::static_pointer_cast<RegularInode>(shared_from_this());
  return FileRef(std::make_shared<RegularFile>(std::move(self), req.flags));
}

Errno RegularInode::SetAttr(const SetAttrRequest& req) {
  if (!(req.mask & SetAttrRequest::kSize)) return TmpfsInode::SetAttr(req);
  if (req.size < 0) return Errno(EINVAL);
  const int64_t old = data_.Size();
  PAL_TRY_ERRNO(data_.Truncate(req.size));
  SetAttrRequest rest = req;
  rest.mask &= ~SetAttrRequest::kSize;
  if (old != req.size && !(rest.mask & SetAttrRequest::kMtime)) {  // as shmem_setattr
    rest.mask |= SetAttrRequest::kMtime;
    rest.mtime = vfs::Now();
  }
  return TmpfsInode::SetAttr(rest);
}

ErrnoOr<int64_t> RegularInode::ReadAt(std::span<uint8_t> dst, int64_t off, bool update_atime) {
  if (off < 0) return Errno(EINVAL);
  if (update_atime) {
    std::lock_guard<std::mutex> l(mu_);
    AccessedLocked();
  }
  return data_.Read(dst, off);
}

ErrnoOr<int64_t> RegularInode::WriteAt(std::span<const uint8_t> src, int64_t off, bool append, int64_t* end) {
  const struct iovec v{const_cast<uint8_t*>(src.data()), src.size()};
  return WriteAt(std::span<const struct iovec>(&v, 1), off, append, end);
}

ErrnoOr<int64_t> RegularInode::WriteAt(std::span<const struct iovec> src, int64_t off, bool append, int64_t* end) {
  PAL_TRY(int64_t n, data_.WriteV(src, off, append, end));
  if (n > 0) {
    std::lock_guard<std::mutex> l(mu_);
    mtime_ = ctime_ = vfs::Now();
  }
  return n;
}

Errno RegularInode::Allocate(int mode, int64_t off, int64_t len) {
  bool changed = false;
  PAL_TRY_ERRNO(data_.Allocate(mode, off, len, &changed));
  if (changed) {
    std::lock_guard<std::mutex> l(mu_);
    if (mode & FALLOC_FL_PUNCH_HOLE) mtime_ = vfs::Now();
    ctime_ = vfs::Now();
  }
  return Errno::Ok();
}

ErrnoOr<int64_t> TmpfsMappable::WriteAt(std::span<const uint8_t> src, int64_t off) {
  // Shared-mapping write-back never grows the file (bytes past EOF are
  // dropped, as the kernel's page cache does).
  int64_t size = inode_->Size();
  if (off >= size) return int64_t{0};
  size_t n = std::min<size_t>(src.size(), static_cast<size_t>(size - off));
  int64_t end;
  return inode_->WriteAt(src.first(n), off, false, &end);
}

}  // namespace palisade::tmpfs
