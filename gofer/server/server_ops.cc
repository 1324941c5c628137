// The gofer's file operations, each relative to fids (see server.h for why
// that keeps every request inside the root).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>  // renameat2
#include <cstring>
#include <vector>

#include "absl/strings/str_split.h"
#include "gofer/server/server.h"

namespace palisade::gofer {
namespace {

// The SetAttrRequest mask bits of sentry/vfs/inode.h (the wire uses them).
enum : uint32_t { kMode = 1, kUid = 2, kGid = 4, kSize = 8, kAtime = 16, kMtime = 32 };

// Keeps a readdir reply well under kMaxPacket.
constexpr size_t kReadDirBudget = 64 * 1024;

void SetTs(proto::Timespec* t, int64_t sec, int64_t nsec) {
  t->set_sec(sec);
  t->set_nsec(nsec);
}

Errno FillAttr(int fd, proto::Attr* a) {
  struct statx sx {};
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) {
    return Errno::FromHost();
  }
  a->set_dev(makedev(sx.stx_dev_major, sx.stx_dev_minor));
  a->set_ino(sx.stx_ino);
  a->set_mode(sx.stx_mode);
  a->set_nlink(sx.stx_nlink);
  a->set_uid(sx.stx_uid);
  a->set_gid(sx.stx_gid);
  a->set_rdev(makedev(sx.stx_rdev_major, sx.stx_rdev_minor));
  a->set_size(static_cast<int64_t>(sx.stx_size));
  a->set_blksize(sx.stx_blksize);
  a->set_blocks(static_cast<int64_t>(sx.stx_blocks));
  SetTs(a->mutable_atime(), sx.stx_atime.tv_sec, sx.stx_atime.tv_nsec);
  SetTs(a->mutable_mtime(), sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec);
  SetTs(a->mutable_ctime(), sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec);
  if (sx.stx_mask & STATX_BTIME) SetTs(a->mutable_btime(), sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec);
  return Errno::Ok();
}

uint32_t TypeOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  return st.st_mode & S_IFMT;
}

}  // namespace

Errno Server::Chmod(int path_fd, uint32_t mode) const {
  // fchmod() refuses O_PATH fds; fchmodat2(AT_EMPTY_PATH) (Linux 6.6)
  // does it directly, older kernels go through /proc/self/fd.
#ifndef SYS_fchmodat2
  constexpr long SYS_fchmodat2 = 452;
#endif
  if (syscall(SYS_fchmodat2, path_fd, "", mode, AT_EMPTY_PATH) == 0) return Errno::Ok();
  if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) return Errno::FromHost();
  if (fchmodat(proc_fd_.get(), std::to_string(path_fd).c_str(), mode, 0) != 0) return Errno::FromHost();
  return Errno::Ok();
}

Errno Server::Attach(const Req& r, Resp& out, UniqueFd&) {
  const std::string& path = r.attach().path();
  if (path.empty() || path[0] != '/') return Errno(EINVAL);
  UniqueFd cur(fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (!cur.ok()) return Errno::FromHost();
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    PAL_TRY(UniqueFd next, OpenComponent(cur.get(), std::string_view(part.data(), part.size())));
    cur = std::move(next);
  }
  // An export root is a directory, or a file for a file bind mount; a
  // symlink there would be followed by nobody, so it is refused.
  if (TypeOf(cur.get()) == S_IFLNK) return Errno(ELOOP);
  proto::Node* n = out.add_nodes();
  PAL_TRY_ERRNO(FillAttr(cur.get(), n->mutable_attr()));
  n->set_fid(AddFid(std::move(cur)));
  return Errno::Ok();
}

Errno Server::Walk(const Req& r, Resp& out, UniqueFd&) {
  int dir = FdOf(r.walk().dir());
  if (dir < 0) return Errno(EBADF);
  Errno first_error;
  for (const std::string& name : r.walk().names()) {
    if (TypeOf(dir) != S_IFDIR) {
      first_error = Errno(ENOTDIR);
      break;
    }
    auto fd = OpenComponent(dir, name);
    if (!fd.ok()) {
      first_error = fd.error();
      break;
    }
    proto::Node* n = out.add_nodes();
    if (Errno e = FillAttr(fd->get(), n->mutable_attr()); !e.ok()) return e;
    dir = fd->get();
    n->set_fid(AddFid(std::move(*fd)));
  }
  // Nothing walked: the error is the reply. Otherwise the client sees the
  // nodes reached and looks the rest up again if it needs the errno.
  if (out.nodes_size() == 0 && !first_error.ok()) return first_error;
  return Errno::Ok();
}

Errno Server::Stat(const Req& r, Resp& out, UniqueFd&) {
  int fd = FdOf(r.stat().fid());
  if (fd < 0) return Errno(EBADF);
  return FillAttr(fd, out.mutable_attr());
}

Errno Server::StatFs(const Req& r, Resp& out, UniqueFd&) {
  int fd = FdOf(r.statfs().fid());
  if (fd < 0) return Errno(EBADF);
  struct statfs s {};
  if (fstatfs(fd, &s) != 0) return Errno::FromHost();
  proto::StatFs* o = out.mutable_statfs();
  o->set_type(s.f_type);
  o->set_bsize(s.f_bsize);
  o->set_blocks(s.f_blocks);
  o->set_bfree(s.f_bfree);
  o->set_bavail(s.f_bavail);
  o->set_files(s.f_files);
  o->set_ffree(s.f_ffree);
  o->set_namelen(s.f_namelen);
  o->set_frsize(s.f_frsize);
  o->set_flags(s.f_flags);
  return Errno::Ok();
}

Errno Server::Open(const Req& r, Resp& out, UniqueFd& donate) {
  int fd = FdOf(r.open().fid());
  if (fd < 0) return Errno(EBADF);
  const int flags = r.open().flags();
  if (flags & (O_CREAT | O_TRUNC | O_PATH | O_TMPFILE | O_EXCL)) return Errno(EINVAL);
  const int pass = (flags & O_ACCMODE) | (flags & (O_DIRECT | O_SYNC | O_DSYNC));
  switch (TypeOf(fd)) {
    case S_IFREG: {
      PAL_TRY(donate, Reopen(fd, pass));
      return Errno::Ok();
    }
    case S_IFDIR: {
      if ((flags & O_ACCMODE) != O_RDONLY) return Errno(EISDIR);
      PAL_TRY(donate, Reopen(fd, O_RDONLY | O_DIRECTORY));
      return Errno::Ok();
    }
    case S_IFLNK: return Errno(ELOOP);
    case S_IFCHR:
    case S_IFBLK: return Errno(EACCES);  // host devices never reach the sandbox
    default: return Errno(ENXIO);        // FIFOs and sockets: the sentry's own
  }
}

Errno Server::FinishCreate(int dir, const std::string& name, uint32_t uid, uint32_t gid, uint32_t perm,
                           bool is_link, Resp& out) {
  PAL_TRY(UniqueFd fd, OpenComponent(dir, name));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno::FromHost();
  if (st.st_uid != uid || st.st_gid != gid) {
    // Best effort: a gofer without CAP_CHOWN keeps its own ids, as a
    // rootless runtime does.
    (void)fchownat(fd.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  }
  // Exact bits (the gofer's umask must not apply; chown may clear setgid).
  if (!is_link) (void)Chmod(fd.get(), perm & 07777);
  proto::Node* n = out.add_nodes();
  PAL_TRY_ERRNO(FillAttr(fd.get(), n->mutable_attr()));
  n->set_fid(AddFid(std::move(fd)));
  return Errno::Ok();
}

Errno Server::Create(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.create();
  int dir = FdOf(c.dir());
  if (dir < 0) return Errno(EBADF);
  PAL_TRY_ERRNO(CheckComponent(c.name()));
  UniqueFd fd(openat(dir, c.name().c_str(), O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
                     c.mode() & 07777));
  if (!fd.ok()) return Errno::FromHost();
  return FinishCreate(dir, c.name(), c.uid(), c.gid(), c.mode(), false, out);
}

Errno Server::Mkdir(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.mkdir();
  int dir = FdOf(c.dir());
  if (dir < 0) return Errno(EBADF);
  PAL_TRY_ERRNO(CheckComponent(c.name()));
  if (mkdirat(dir, c.name().c_str(), c.mode() & 07777) != 0) return Errno::FromHost();
  return FinishCreate(dir, c.name(), c.uid(), c.gid(), c.mode(), false, out);
}

Errno Server::Mknod(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.mknod();
  int dir = FdOf(c.dir());
  if (dir < 0) return Errno(EBADF);
  PAL_TRY_ERRNO(CheckComponent(c.name()));
  const uint32_t type = c.mode() & S_IFMT;
  if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return Errno(EPERM);
  if (mknodat(dir, c.name().c_str(), type | (c.mode() & 07777), 0) != 0) return Errno::FromHost();
  return FinishCreate(dir, c.name(), c.uid(), c.gid(), c.mode(), false, out);
}

Errno Server::Symlink(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.symlink();
  int dir = FdOf(c.dir());
  if (dir < 0) return Errno(EBADF);
  PAL_TRY_ERRNO(CheckComponent(c.name()));
  if (c.target().empty() || c.target().find('\0') != std::string::npos) return Errno(ENOENT);
  // Stored verbatim; only the sentry ever follows it, in sandbox terms.
  if (symlinkat(c.target().c_str(), dir, c.name().c_str()) != 0) return Errno::FromHost();
  return FinishCreate(dir, c.name(), c.uid(), c.gid(), 0777, true, out);
}

Errno Server::Link(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.link();
  int target = FdOf(c.target());
  int dir = FdOf(c.dir());
  if (target < 0 || dir < 0) return Errno(EBADF);
  PAL_TRY_ERRNO(CheckComponent(c.name()));
  if (TypeOf(target) == S_IFDIR) return Errno(EPERM);
  // The fid's /proc/self/fd entry names exactly its inode (never a path).
  if (linkat(proc_fd_.get(), std::to_string(target).c_str(), dir, c.name().c_str(), AT_SYMLINK_FOLLOW) != 0) {
    return Errno::FromHost();
  }
  return Errno::Ok();
}

Errno Server::Unlink(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.unlink();
  int dir = FdOf(c.dir());
  if (dir < 0) return Errno(EBADF);
  PAL_TRY_ERRNO(CheckComponent(c.name()));
  if (unlinkat(dir, c.name().c_str(), c.rmdir() ? AT_REMOVEDIR : 0) != 0) return Errno::FromHost();
  return Errno::Ok();
}

Errno Server::Rename(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.rename();
  int od = FdOf(c.old_dir());
  int nd = FdOf(c.new_dir());
  if (od < 0 || nd < 0) return Errno(EBADF);
  PAL_TRY_ERRNO(CheckComponent(c.old_name()));
  PAL_TRY_ERRNO(CheckComponent(c.new_name()));
  if (c.flags() & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return Errno(EINVAL);
  if (renameat2(od, c.old_name().c_str(), nd, c.new_name().c_str(), c.flags()) != 0) return Errno::FromHost();
  return Errno::Ok();
}

Errno Server::ReadDir(const Req& r, Resp& out, UniqueFd&) {
  int fd = FdOf(r.readdir().fid());
  if (fd < 0) return Errno(EBADF);
  if (TypeOf(fd) != S_IFDIR) return Errno(ENOTDIR);
  PAL_TRY(UniqueFd dir, Reopen(fd, O_RDONLY | O_DIRECTORY));
  if (lseek(dir.get(), r.readdir().offset(), SEEK_SET) < 0) return Errno::FromHost();
  std::vector<char> buf(16 * 1024);
  size_t used = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, dir.get(), buf.data(), buf.size());
    if (n < 0) return Errno::FromHost();
    if (n == 0) return Errno::Ok();
    for (long pos = 0; pos < n;) {
      uint64_t ino;
      int64_t off;
      uint16_t reclen;
      uint8_t type;
      // SAFETY: linux_dirent64 records as the kernel wrote them.
      memcpy(&ino, buf.data() + pos, 8);
      memcpy(&off, buf.data() + pos + 8, 8);
      memcpy(&reclen, buf.data() + pos + 16, 2);
      memcpy(&type, buf.data() + pos + 18, 1);
      const char* name = buf.data() + pos + 19;
      pos += reclen;
      if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
      proto::DirEntry* e = out.add_entries();
      e->set_ino(ino);
      e->set_type(type);
      e->set_name(name);
      e->set_offset(off);
      used += strlen(name) + 32;
    }
    // Whole getdents batches only, so the last entry's offset resumes
    // exactly after it.
    if (used >= kReadDirBudget) return Errno::Ok();
  }
}

Errno Server::ReadLink(const Req& r, Resp& out, UniqueFd&) {
  int fd = FdOf(r.readlink().fid());
  if (fd < 0) return Errno(EBADF);
  std::string buf(4096, '\0');
  ssize_t n = readlinkat(fd, "", buf.data(), buf.size());
  if (n < 0) return Errno::FromHost();
  buf.resize(static_cast<size_t>(n));
  out.set_link_target(std::move(buf));
  return Errno::Ok();
}

Errno Server::SetAttr(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.setattr();
  int fd = FdOf(c.fid());
  if (fd < 0) return Errno(EBADF);
  const uint32_t type = TypeOf(fd);
  if (c.mask() & (kUid | kGid)) {
    uid_t u = (c.mask() & kUid) ? c.uid() : static_cast<uid_t>(-1);
    gid_t g = (c.mask() & kGid) ? c.gid() : static_cast<gid_t>(-1);
    if (fchownat(fd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return Errno::FromHost();
  }
  if (c.mask() & kMode) {
    if (type == S_IFLNK) return Errno(EOPNOTSUPP);
    PAL_TRY_ERRNO(Chmod(fd, c.mode() & 07777));
  }
  if (c.mask() & kSize) {
    if (type == S_IFDIR) return Errno(EISDIR);
    if (type != S_IFREG) return Errno(EINVAL);
    PAL_TRY(UniqueFd w, Reopen(fd, O_WRONLY));
    if (ftruncate(w.get(), c.size()) != 0) return Errno::FromHost();
  }
  if (c.mask() & (kAtime | kMtime)) {
    struct timespec ts[2];
    ts[0] = (c.mask() & kAtime) ? timespec{c.atime().sec(), c.atime().nsec()} : timespec{0, UTIME_OMIT};
    ts[1] = (c.mask() & kMtime) ? timespec{c.mtime().sec(), c.mtime().nsec()} : timespec{0, UTIME_OMIT};
    if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return Errno::FromHost();
  }
  return FillAttr(fd, out.mutable_attr());
}

Errno Server::Close(const Req& r, Resp& out, UniqueFd&) {
  for (uint64_t fid : r.close().fids()) fids_.erase(fid);
  return Errno::Ok();
}

// Extended attributes work on regular files and directories only (a real
// fd is needed; links and special files answer EPERM as Linux does for
// user.* on them).
namespace {
ErrnoOr<int> XattrType(int fd) {
  uint32_t t = TypeOf(fd);
  if (t != S_IFREG && t != S_IFDIR) return Errno(EPERM);
  return static_cast<int>(t);
}
}  // namespace

Errno Server::GetXattr(const Req& r, Resp& out, UniqueFd&) {
  int fd = FdOf(r.getxattr().fid());
  if (fd < 0) return Errno(EBADF);
  PAL_TRY(int t, XattrType(fd));
  PAL_TRY(UniqueFd f, Reopen(fd, O_RDONLY | (t == S_IFDIR ? O_DIRECTORY : 0)));
  std::string buf(64 * 1024, '\0');
  ssize_t n = fgetxattr(f.get(), r.getxattr().name().c_str(), buf.data(), buf.size());
  if (n < 0) return Errno::FromHost();
  buf.resize(static_cast<size_t>(n));
  out.set_xattr_value(std::move(buf));
  return Errno::Ok();
}

Errno Server::SetXattr(const Req& r, Resp& out, UniqueFd&) {
  const auto& c = r.setxattr();
  int fd = FdOf(c.fid());
  if (fd < 0) return Errno(EBADF);
  PAL_TRY(int t, XattrType(fd));
  PAL_TRY(UniqueFd f, Reopen(fd, O_RDONLY | (t == S_IFDIR ? O_DIRECTORY : 0)));
  if (fsetxattr(f.get(), c.name().c_str(), c.value().data(), c.value().size(), c.flags()) != 0) {
    return Errno::FromHost();
  }
  return Errno::Ok();
}

Errno Server::ListXattr(const Req& r, Resp& out, UniqueFd&) {
  int fd = FdOf(r.listxattr().fid());
  if (fd < 0) return Errno(EBADF);
  PAL_TRY(int t, XattrType(fd));
  PAL_TRY(UniqueFd f, Reopen(fd, O_RDONLY | (t == S_IFDIR ? O_DIRECTORY : 0)));
  std::string buf(64 * 1024, '\0');
  ssize_t n = flistxattr(f.get(), buf.data(), buf.size());
  if (n < 0) return Errno::FromHost();
  buf.resize(static_cast<size_t>(n));
  out.set_xattr_value(std::move(buf));
  return Errno::Ok();
}

Errno Server::RemoveXattr(const Req& r, Resp& out, UniqueFd&) {
  int fd = FdOf(r.removexattr().fid());
  if (fd < 0) return Errno(EBADF);
  PAL_TRY(int t, XattrType(fd));
  PAL_TRY(UniqueFd f, Reopen(fd, O_RDONLY | (t == S_IFDIR ? O_DIRECTORY : 0)));
  if (fremovexattr(f.get(), r.removexattr().name().c_str()) != 0) return Errno::FromHost();
  return Errno::Ok();
}

}  // namespace palisade::gofer
