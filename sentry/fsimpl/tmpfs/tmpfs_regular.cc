// tmpfs regular files: sparse page storage, the open-file description
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

constexpr int64_t kMaxFileSize = std::numeric_limits<int64_t>::max();  // MAX_LFS_FILESIZE

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
    int64_t end;
    // Linux appends even for pwrite on an O_APPEND file (pwrite(2) BUGS).
    return reg_->WriteAt(src, off, flags() & O_APPEND, &end);
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
    : TmpfsInode(std::move(fs), S_IFREG | (perm & 07777), uid, gid) {}

RegularInode::~RegularInode() { fs_->pages.fetch_sub(static_cast<int64_t>(pages_.size())); }

ErrnoOr<FileRef> RegularInode::Open(const OpenRequest& req) {
  auto self = std::static_pointer_cast<RegularInode>(shared_from_this());
  return FileRef(std::make_shared<RegularFile>(std::move(self), req.flags));
}

uint8_t* RegularInode::PageLocked(int64_t index, bool create) {
  auto it = pages_.find(index);
  if (it != pages_.end()) return it->second.get();
  if (!create) return nullptr;
  auto page = std::make_unique<uint8_t[]>(kPageSize);  // zero-filled
  uint8_t* p = page.get();
  pages_.emplace(index, std::move(page));
  fs_->pages.fetch_add(1);
  return p;
}

void RegularInode::DropPagesLocked(int64_t first_page, int64_t end_page) {
  auto it = pages_.lower_bound(first_page);
  while (it != pages_.end() && it->first < end_page) {
    it = pages_.erase(it);
    fs_->pages.fetch_sub(1);
  }
}

void RegularInode::ZeroLocked(int64_t off, int64_t len) {
  while (len > 0) {
    int64_t in = off % kPageSize;
    int64_t n = std::min(len, kPageSize - in);
    if (uint8_t* p = PageLocked(off / kPageSize, false)) memset(p + in, 0, n);
    off += n;
    len -= n;
  }
}

ErrnoOr<int64_t> RegularInode::ReadAt(std::span<uint8_t> dst, int64_t off, bool update_atime) {
  if (off < 0) return Errno(EINVAL);
  std::lock_guard<std::mutex> l(mu_);
  if (update_atime) AccessedLocked();
  if (off >= size_) return int64_t{0};
  int64_t total = std::min<int64_t>(static_cast<int64_t>(dst.size()), size_ - off);
  int64_t done = 0;
  while (done < total) {
    int64_t pos = off + done;
    int64_t in = pos % kPageSize;
    int64_t n = std::min(total - done, kPageSize - in);
    if (const uint8_t* p = PageLocked(pos / kPageSize, false)) {
      memcpy(dst.data() + done, p + in, n);
    } else {
      memset(dst.data() + done, 0, n);  // a hole
    }
    done += n;
  }
  return total;
}

ErrnoOr<int64_t> RegularInode::WriteAt(std::span<const uint8_t> src, int64_t off, bool append, int64_t* end) {
  std::lock_guard<std::mutex> l(mu_);
  if (append) off = size_;
  if (off < 0) return Errno(EINVAL);
  int64_t total = static_cast<int64_t>(src.size());
  if (total == 0) {
    *end = off;
    return int64_t{0};
  }
  if (off >= kMaxFileSize) return Errno(EFBIG);
  total = std::min(total, kMaxFileSize - off);  // a short write up to the limit, as Linux
  int64_t done = 0;
  while (done < total) {
    int64_t pos = off + done;
    int64_t in = pos % kPageSize;
    int64_t n = std::min(total - done, kPageSize - in);
    memcpy(PageLocked(pos / kPageSize, true) + in, src.data() + done, n);
    done += n;
  }
  size_ = std::max(size_, off + total);
  mtime_ = ctime_ = vfs::Now();
  *end = off + total;
  return total;
}

int64_t RegularInode::Size() {
  std::lock_guard<std::mutex> l(mu_);
  return size_;
}

ErrnoOr<int64_t> RegularInode::SeekDataOrHole(int64_t off, bool hole) {
  std::lock_guard<std::mutex> l(mu_);
  if (off < 0 || off >= size_) return Errno(ENXIO);
  int64_t index = off / kPageSize;
  if (!hole) {
    if (pages_.count(index)) return off;
    auto it = pages_.lower_bound(index);
    if (it == pages_.end() || it->first * kPageSize >= size_) return Errno(ENXIO);
    return it->first * kPageSize;
  }
  if (!pages_.count(index)) return off;
  while (pages_.count(index + 1)) index++;
  return std::min(size_, (index + 1) * kPageSize);  // end of file counts as a hole
}

Errno RegularInode::ResizeLocked(int64_t size) {
  if (size < size_) {
    // Drop whole pages past the new end and zero the rest of the last one,
    // so a later extension reads zeros.
    int64_t keep = (size + kPageSize - 1) / kPageSize;
    DropPagesLocked(keep, std::numeric_limits<int64_t>::max());
    if (size % kPageSize) ZeroLocked(size, kPageSize - size % kPageSize);
  }
  size_ = size;
  return Errno::Ok();
}

Errno RegularInode::Allocate(int mode, int64_t off, int64_t len) {
  int64_t end;
  if (off < 0 || len <= 0) return Errno(EINVAL);
  if (__builtin_add_overflow(off, len, &end)) return Errno(EFBIG);
  std::lock_guard<std::mutex> l(mu_);
  if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
    end = std::min(end, size_);
    if (off >= end) return Errno::Ok();
    // Whole pages go away; partial ones at either edge are zeroed.
    int64_t first_full = (off + kPageSize - 1) / kPageSize, end_full = end / kPageSize;
    if (first_full < end_full) {
      ZeroLocked(off, first_full * kPageSize - off);
      DropPagesLocked(first_full, end_full);
      ZeroLocked(end_full * kPageSize, end - end_full * kPageSize);
    } else {
      ZeroLocked(off, end - off);
    }
    mtime_ = ctime_ = vfs::Now();
    return Errno::Ok();
  }
  if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE) return Errno(EOPNOTSUPP);
  for (int64_t i = off / kPageSize; i * kPageSize < end; i++) PageLocked(i, true);
  if (mode == 0 && end > size_) {
    size_ = end;
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
