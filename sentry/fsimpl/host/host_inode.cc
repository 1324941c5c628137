// Host backend inodes: lookup, attributes and every namespace change, each
// one host call relative to a directory fd (see host_fs.h for why that
// keeps the sandbox inside its tree).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>  // renameat2

#include "base/status_macros.h"
#include "sentry/fsimpl/host/host_file.h"
#include "sentry/fsimpl/host/host_fs.h"
#include "sentry/fsimpl/host/host_inode.h"
#include "sentry/vfs/vfs.h"

namespace palisade::host {

namespace {

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// chmod of the file an O_PATH fd names. fchmod() refuses O_PATH fds;
// fchmodat2(AT_EMPTY_PATH) (Linux 6.6) does it directly, older kernels
// go through the fd's /proc magic link, which names exactly that inode.
Errno ChmodPathFd(int fd, uint32_t mode) {
#ifndef SYS_fchmodat2
  constexpr long SYS_fchmodat2 = 452;
#endif
  if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0) return Errno::Ok();
  if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) return Errno::FromHost();
  if (fchmodat(AT_FDCWD, ProcFdPath(fd).c_str(), mode, 0) != 0) return Errno::FromHost();
  return Errno::Ok();
}

}  // namespace

Errno CheckComponent(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return Errno(ENOENT);
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) return Errno(EINVAL);
  if (name.size() > vfs::kNameMax) return Errno(ENAMETOOLONG);
  return Errno::Ok();
}

std::shared_ptr<HostInode> HostFs::Intern(UniqueFd fd, const struct stat& st, std::shared_ptr<HostInode> parent,
                                          std::string name) {
  std::lock_guard<std::mutex> l(mu_);
  auto key = std::make_pair(st.st_dev, st.st_ino);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    if (std::shared_ptr<HostInode> live = it->second.lock()) {
      live->SetLocation(std::move(parent), std::move(name));
      return live;  // the new fd closes here
    }
  }
  auto inode = std::make_shared<HostInode>(shared_from_this(), std::move(fd), st, std::move(parent), std::move(name));
  cache_[key] = inode;
  return inode;
}

void HostFs::Relocate(dev_t dev, ino_t ino, std::shared_ptr<HostInode> parent, std::string name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = cache_.find(std::make_pair(dev, ino));
  if (it == cache_.end()) return;
  if (std::shared_ptr<HostInode> live = it->second.lock()) live->SetLocation(std::move(parent), std::move(name));
}

void HostFs::Forget(dev_t dev, ino_t ino) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = cache_.find(std::make_pair(dev, ino));
  // A new inode for the same file may have been interned meanwhile.
  if (it != cache_.end() && it->second.expired()) cache_.erase(it);
}

HostInode::HostInode(std::shared_ptr<HostFs> fs, UniqueFd fd, const struct stat& st,
                     std::shared_ptr<HostInode> parent, std::string name)
    : fs_(std::move(fs)),
      fd_(std::move(fd)),
      dev_(st.st_dev),
      ino_(st.st_ino),
      type_(st.st_mode & S_IFMT),
      root_(parent == nullptr),
      parent_(std::move(parent)),
      name_(std::move(name)) {
  if (type_ == S_IFIFO) fifo_ = std::make_unique<FifoState>();
}

HostInode::~HostInode() { fs_->Forget(dev_, ino_); }

void HostInode::SetLocation(std::shared_ptr<HostInode> parent, std::string name) {
  if (root_ || !parent) return;
  std::lock_guard<std::mutex> l(mu_);
  parent_ = std::move(parent);
  name_ = std::move(name);
}

ErrnoOr<UniqueFd> HostInode::Reopen(int flags) {
  // O_NONBLOCK: never hang on a file swapped for a FIFO behind our back.
  const int f = flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
  UniqueFd fd;
  if (type_ == S_IFDIR) {
    fd.reset(openat(fd_.get(), ".", f | O_DIRECTORY));
  } else {
    std::shared_ptr<HostInode> parent;
    std::string name;
    {
      std::lock_guard<std::mutex> l(mu_);
      parent = parent_;
      name = name_;
    }
    if (!parent) return Errno(ESTALE);
    fd.reset(openat(parent->path_fd(), name.c_str(), f));
  }
  if (!fd.ok()) return Errno::FromHost();
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno::FromHost();
  if (st.st_dev != dev_ || st.st_ino != ino_) return Errno(ESTALE);
  return fd;
}

ErrnoOr<InodeAttr> HostInode::GetAttr() {
  struct statx sx {};
  if (statx(fd_.get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx) == 0) {
    InodeAttr a;
    a.dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    a.ino = sx.stx_ino;
    a.mode = sx.stx_mode;
    a.nlink = sx.stx_nlink;
    a.uid = sx.stx_uid;
    a.gid = sx.stx_gid;
    a.rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
    a.size = static_cast<int64_t>(sx.stx_size);
    a.blksize = sx.stx_blksize;
    a.blocks = static_cast<int64_t>(sx.stx_blocks);
    a.atime = {sx.stx_atime.tv_sec, sx.stx_atime.tv_nsec};
    a.mtime = {sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec};
    a.ctime = {sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec};
    if (sx.stx_mask & STATX_BTIME) a.btime = {sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec};
    return a;
  }
  struct stat st;
  if (fstat(fd_.get(), &st) != 0) return Errno::FromHost();
  return StatToInodeAttr(st);
}

Errno HostInode::SetAttr(const SetAttrRequest& req) {
  PAL_TRY_ERRNO(CheckWritable());
  using R = SetAttrRequest;
  if (req.mask & (R::kUid | R::kGid)) {
    uid_t u = (req.mask & R::kUid) ? req.uid : static_cast<uid_t>(-1);
    gid_t g = (req.mask & R::kGid) ? req.gid : static_cast<gid_t>(-1);
    if (fchownat(fd_.get(), "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return Errno::FromHost();
  }
  if (req.mask & R::kMode) {
    if (type_ == S_IFLNK) return Errno(EOPNOTSUPP);
    PAL_TRY_ERRNO(ChmodPathFd(fd_.get(), req.mode & 07777));
  }
  if (req.mask & R::kSize) {
    if (type_ == S_IFDIR) return Errno(EISDIR);
    if (type_ != S_IFREG) return Errno(EINVAL);
    PAL_TRY(UniqueFd w, Reopen(O_WRONLY));
    if (ftruncate(w.get(), req.size) != 0) return Errno::FromHost();
  }
  if (req.mask & (R::kAtime | R::kMtime)) {
    struct timespec ts[2];
    ts[0] = (req.mask & R::kAtime) ? req.atime : timespec{0, UTIME_OMIT};
    ts[1] = (req.mask & R::kMtime) ? req.mtime : timespec{0, UTIME_OMIT};
    if (utimensat(fd_.get(), "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      // Kernels before AT_EMPTY_PATH support in utimensat: the magic link.
      if (errno != EINVAL && errno != ENOENT) return Errno::FromHost();
      if (type_ == S_IFLNK) return Errno(EOPNOTSUPP);
      if (utimensat(AT_FDCWD, ProcFdPath(fd_.get()).c_str(), ts, 0) != 0) return Errno::FromHost();
    }
  }
  // ctime: the host kernel sets it on each change above.
  return Errno::Ok();
}

ErrnoOr<InodeRef> HostInode::Lookup(std::string_view name) {
  if (type_ != S_IFDIR) return Errno(ENOTDIR);
  PAL_TRY_ERRNO(CheckComponent(name));
  std::string n(name);
  UniqueFd fd(openat(fd_.get(), n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.ok()) return Errno::FromHost();
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno::FromHost();
  auto self = std::static_pointer_cast<HostInode>(shared_from_this());
  return InodeRef(fs_->Intern(std::move(fd), st, std::move(self), std::move(n)));
}

ErrnoOr<InodeRef> HostInode::Finish(std::string_view name, const Credentials& c, uint32_t mode) {
  std::string n(name);
  UniqueFd fd(openat(fd_.get(), n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.ok()) return Errno::FromHost();
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno::FromHost();
  if (st.st_uid != c.fsuid || st.st_gid != c.fsgid) {
    // Best effort: an unprivileged sentry (or ids unmapped in its user
    // namespace) keeps the host's owner, as a rootless runtime does.
    (void)fchownat(fd.get(), "", c.fsuid, c.fsgid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  }
  if (!S_ISLNK(st.st_mode)) {
    // The sentry's own umask applied on the host; set the exact bits
    // (after chown, which may clear setuid/setgid).
    (void)ChmodPathFd(fd.get(), mode & 07777);
  }
  if (fstat(fd.get(), &st) != 0) return Errno::FromHost();
  auto self = std::static_pointer_cast<HostInode>(shared_from_this());
  return InodeRef(fs_->Intern(std::move(fd), st, std::move(self), std::move(n)));
}

ErrnoOr<InodeRef> HostInode::Create(std::string_view name, uint32_t mode, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(name));
  std::string n(name);
  UniqueFd fd(openat(fd_.get(), n.c_str(), O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, mode & 07777));
  if (!fd.ok()) return Errno::FromHost();
  return Finish(name, c, mode);
}

ErrnoOr<InodeRef> HostInode::Mkdir(std::string_view name, uint32_t mode, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(name));
  if (mkdirat(fd_.get(), std::string(name).c_str(), mode & 07777) != 0) return Errno::FromHost();
  return Finish(name, c, mode);
}

ErrnoOr<InodeRef> HostInode::Mknod(std::string_view name, uint32_t mode, uint64_t rdev, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(name));
  if (mknodat(fd_.get(), std::string(name).c_str(), mode, rdev) != 0) return Errno::FromHost();
  return Finish(name, c, mode);
}

ErrnoOr<InodeRef> HostInode::Symlink(std::string_view name, std::string_view target, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(name));
  // Stored verbatim; only the sandbox VFS ever interprets it.
  if (symlinkat(std::string(target).c_str(), fd_.get(), std::string(name).c_str()) != 0) return Errno::FromHost();
  return Finish(name, c, 0777);
}

Errno HostInode::Link(std::string_view name, const InodeRef& target) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(name));
  auto t = std::dynamic_pointer_cast<HostInode>(target);
  if (!t || t->fs_ != fs_) return Errno(EXDEV);
  std::shared_ptr<HostInode> tparent;
  std::string tname;
  {
    std::lock_guard<std::mutex> l(t->mu_);
    tparent = t->parent_;
    tname = t->name_;
  }
  if (!tparent) return Errno(EPERM);  // the root, a directory
  struct stat st;
  if (fstatat(tparent->path_fd(), tname.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return Errno::FromHost();
  if (st.st_dev != t->dev_ || st.st_ino != t->ino_) return Errno(ESTALE);
  if (linkat(tparent->path_fd(), tname.c_str(), fd_.get(), std::string(name).c_str(), 0) != 0) {
    return Errno::FromHost();
  }
  return Errno::Ok();
}

Errno HostInode::Unlink(std::string_view name) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(name));
  if (unlinkat(fd_.get(), std::string(name).c_str(), 0) != 0) return Errno::FromHost();
  return Errno::Ok();
}

Errno HostInode::Rmdir(std::string_view name) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(name));
  if (unlinkat(fd_.get(), std::string(name).c_str(), AT_REMOVEDIR) != 0) return Errno::FromHost();
  return Errno::Ok();
}

Errno HostInode::Rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckComponent(old_name));
  PAL_TRY_ERRNO(CheckComponent(new_name));
  auto* nd = dynamic_cast<HostInode*>(&new_dir);
  if (!nd || nd->fs_ != fs_) return Errno(EXDEV);
  std::string o(old_name), n(new_name);
  if (renameat2(fd_.get(), o.c_str(), nd->path_fd(), n.c_str(), flags) != 0) return Errno::FromHost();
  // Keep the cached inodes' locations current for later reopens.
  auto nd_self = std::static_pointer_cast<HostInode>(nd->shared_from_this());
  struct stat st;
  if (fstatat(nd->path_fd(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) fs_->Relocate(st.st_dev, st.st_ino, nd_self, n);
  if ((flags & RENAME_EXCHANGE) && fstatat(fd_.get(), o.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    fs_->Relocate(st.st_dev, st.st_ino, std::static_pointer_cast<HostInode>(shared_from_this()), o);
  }
  return Errno::Ok();
}

ErrnoOr<std::vector<DirEntry>> HostInode::ReadDir() {
  if (type_ != S_IFDIR) return Errno(ENOTDIR);
  PAL_TRY(UniqueFd fd, Reopen(O_RDONLY | O_DIRECTORY));
  std::vector<DirEntry> all;
  for (;;) {
    PAL_TRY(std::vector<DirEntry> chunk, ReadHostDirents(fd.get(), 1024));
    if (chunk.empty()) break;
    for (DirEntry& e : chunk) {
      if (e.name != "." && e.name != "..") all.push_back(std::move(e));
    }
  }
  return all;
}

ErrnoOr<std::string> HostInode::ReadLink() {
  if (type_ != S_IFLNK) return Errno(EINVAL);
  std::string buf(vfs::kPathMax, '\0');
  ssize_t n = readlinkat(fd_.get(), "", buf.data(), buf.size());
  if (n < 0) return Errno::FromHost();
  buf.resize(static_cast<size_t>(n));
  return buf;
}

ErrnoOr<struct statfs> HostInode::StatFs() {
  struct statfs s {};
  if (fstatfs(fd_.get(), &s) != 0) return Errno::FromHost();
  return s;
}

ErrnoOr<FileRef> HostInode::Open(const OpenRequest& req) {
  const int acc = req.flags & O_ACCMODE;
  auto self = std::static_pointer_cast<HostInode>(shared_from_this());
  switch (type_) {
    case S_IFDIR: {
      PAL_TRY(UniqueFd fd, Reopen(O_RDONLY | O_DIRECTORY));
      return NewHostDirFile(std::move(self), std::move(fd), req.flags);
    }
    case S_IFREG: {
      if (acc != O_RDONLY) PAL_TRY_ERRNO(CheckWritable());
      // O_APPEND stays ours: a host O_APPEND fd would make pwrite append too.
      int hf = (acc == O_RDONLY ? O_RDONLY : acc == O_WRONLY ? O_WRONLY : O_RDWR) |
               (req.flags & (O_DIRECT | O_SYNC | O_DSYNC));
      PAL_TRY(UniqueFd fd, Reopen(hf));
      return NewHostRegularFile(std::move(self), std::move(fd), req.flags);
    }
    case S_IFLNK: return Errno(ELOOP);
    case S_IFCHR:
    case S_IFBLK:
      // Host device nodes in a rootfs are never opened: the sandbox's /dev
      // is its own, and a node in an image must not reach host drivers.
      return Errno(EACCES);
    case S_IFIFO: return fifo_->Open(req.task, req.flags);
    default: return Errno(ENXIO);  // sockets
  }
}

absl::StatusOr<InodeRef> NewHostRoot(const std::string& host_path, bool readonly) {
  UniqueFd fd(open(host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.ok()) return ErrnoStatus(errno, "open", host_path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "fstat", host_path);
  auto fs = std::make_shared<HostFs>(vfs::AllocateFsId(), readonly);
  return InodeRef(fs->Intern(std::move(fd), st, nullptr, ""));
}

}  // namespace palisade::host
