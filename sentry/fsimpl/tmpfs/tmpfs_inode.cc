// tmpfs attributes shared by every inode type, symlinks, special files and
// the filesystem factory.
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sentry/fsimpl/tmpfs/tmpfs.h"
#include "sentry/fsimpl/tmpfs/tmpfs_inode.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::tmpfs {

namespace {

bool NotAfter(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

// Linux sizes an unlimited-by-option tmpfs at half of RAM (blocks and
// inodes); statfs reports that.
int64_t HalfRamPages() {
  long pages = sysconf(_SC_PHYS_PAGES);
  return pages > 0 ? pages / 2 : (1 << 20);
}

}  // namespace

TmpfsInode::TmpfsInode(std::shared_ptr<Filesystem> fs, uint32_t mode, uid_t uid, gid_t gid, uint64_t rdev)
    : fs_(std::move(fs)),
      ino_(fs_->next_ino.fetch_add(1)),
      type_(mode & S_IFMT),
      mode_(mode & 07777),
      uid_(uid),
      gid_(gid),
      rdev_(rdev) {
  atime_ = mtime_ = ctime_ = btime_ = vfs::Now();
  fs_->inodes.fetch_add(1);
}

TmpfsInode::~TmpfsInode() { fs_->inodes.fetch_sub(1); }

ErrnoOr<InodeAttr> TmpfsInode::GetAttr() {
  std::lock_guard<std::mutex> l(mu_);
  InodeAttr a;
  a.dev = fs_->dev;
  a.ino = ino_;
  a.mode = type_ | mode_;
  a.nlink = nlink_;
  a.uid = uid_;
  a.gid = gid_;
  a.rdev = rdev_;
  a.size = SizeLocked();
  a.blksize = kPageSize;
  a.blocks = BlocksLocked();
  a.atime = atime_;
  a.mtime = mtime_;
  a.ctime = ctime_;
  a.btime = btime_;
  return a;
}

Errno TmpfsInode::ResizeLocked(int64_t) { return Errno(EINVAL); }

Errno TmpfsInode::SetAttr(const SetAttrRequest& req) {
  std::lock_guard<std::mutex> l(mu_);
  struct timespec now = vfs::Now();
  if (req.mask & SetAttrRequest::kSize) {
    if (req.size < 0) return Errno(EINVAL);
    int64_t old = SizeLocked();
    PAL_TRY_ERRNO(ResizeLocked(req.size));
    if (old != req.size) mtime_ = now;  // as shmem_setattr
  }
  if (req.mask & SetAttrRequest::kMode) mode_ = req.mode & 07777;
  if (req.mask & SetAttrRequest::kUid) uid_ = req.uid;
  if (req.mask & SetAttrRequest::kGid) gid_ = req.gid;
  if (req.mask & SetAttrRequest::kAtime) atime_ = req.atime;
  if (req.mask & SetAttrRequest::kMtime) mtime_ = req.mtime;
  // Every attribute change is a status change.
  ctime_ = (req.mask & SetAttrRequest::kCtime) ? req.ctime : now;
  return Errno::Ok();
}

ErrnoOr<FileRef> TmpfsInode::Open(const OpenRequest&) {
  // Sockets and device nodes: see tmpfs.h.
  return Errno(ENXIO);
}

ErrnoOr<struct statfs> TmpfsInode::StatFs() {
  struct statfs s {};
  s.f_type = TMPFS_MAGIC;
  s.f_bsize = kPageSize;
  s.f_frsize = kPageSize;
  int64_t total = HalfRamPages();
  int64_t used = fs_->pages.load();
  s.f_blocks = total;
  s.f_bfree = s.f_bavail = used < total ? total - used : 0;
  int64_t inodes = fs_->inodes.load();
  s.f_files = total;
  s.f_ffree = inodes < total ? total - inodes : 0;
  s.f_namelen = 255;
  s.f_fsid.__val[0] = static_cast<int>(fs_->fsid);
  return s;
}

void TmpfsInode::TouchCtime() {
  std::lock_guard<std::mutex> l(mu_);
  ctime_ = vfs::Now();
}

void TmpfsInode::TouchMtimeCtime() {
  std::lock_guard<std::mutex> l(mu_);
  mtime_ = ctime_ = vfs::Now();
}

void TmpfsInode::AddLinks(int64_t delta) {
  std::lock_guard<std::mutex> l(mu_);
  nlink_ = static_cast<uint64_t>(static_cast<int64_t>(nlink_) + delta);
  ctime_ = vfs::Now();
}

void TmpfsInode::SetLinks(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  nlink_ = n;
  ctime_ = vfs::Now();
}

uint64_t TmpfsInode::links() {
  std::lock_guard<std::mutex> l(mu_);
  return nlink_;
}

void TmpfsInode::AccessedLocked() {
  struct timespec now = vfs::Now();
  if (NotAfter(atime_, mtime_) || NotAfter(atime_, ctime_) || now.tv_sec - atime_.tv_sec >= 24 * 3600) {
    atime_ = now;
  }
}

SymlinkInode::SymlinkInode(std::shared_ptr<Filesystem> fs, std::string target, uid_t uid, gid_t gid)
    : TmpfsInode(std::move(fs), S_IFLNK | 0777, uid, gid), target_(std::move(target)) {}

InodeRef NewTmpfsRoot(uint32_t mode, uid_t uid, gid_t gid) {
  auto fs = std::make_shared<Filesystem>();
  fs->fsid = vfs::AllocateFsId();
  fs->dev = makedev(0, static_cast<unsigned>(fs->fsid));
  return std::make_shared<DirInode>(fs, mode & 07777, uid, gid);
}

}  // namespace palisade::tmpfs
