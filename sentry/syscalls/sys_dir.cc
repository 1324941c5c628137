// Namespace syscalls: getdents(64), mkdir, rmdir, unlink, rename, symlink,
// link, mknod, chdir/fchdir/getcwd, umask, chroot, and mount/umount2 for
// tmpfs and bind mounts. Path rules are vfs_ops.h's.
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <climits>
#include <cstdlib>
#include <cstring>

#include "sentry/fsimpl/tmpfs/tmpfs.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::sys {

namespace {

// Reclen of one record: getdents64's linux_dirent64 is {u64 ino; s64 off;
// u16 reclen; u8 type; char name[]}; the old linux_dirent is {ulong ino;
// ulong off; u16 reclen; char name[]; char pad; char type}. Both 8-aligned.
size_t Reclen(bool is64, size_t namelen) {
  size_t raw = is64 ? 19 + namelen + 1 : 18 + namelen + 2;
  return (raw + 7) & ~size_t{7};
}

void Encode(bool is64, const DirEntry& e, int64_t off, uint8_t* out, size_t reclen) {
  memset(out, 0, reclen);
  uint16_t rl = static_cast<uint16_t>(reclen);
  memcpy(out, &e.ino, 8);
  memcpy(out + 8, &off, 8);
  memcpy(out + 16, &rl, 2);
  if (is64) {
    out[18] = e.type;
    memcpy(out + 19, e.name.data(), e.name.size());
  } else {
    memcpy(out + 18, e.name.data(), e.name.size());
    out[reclen - 1] = e.type;
  }
}

// getdents/getdents64: fills the buffer with whole records. Entries read
// but not fitting are given back by seeking the directory to the last
// record's d_off; a directory that cannot seek is read one entry at a
// time while a maximal record (NAME_MAX) still fits.
SyscallResult DoGetdents(Task& t, const SyscallArgs& a, bool is64) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kNotPath));
  uint64_t addr = a[1].Ptr();
  size_t count = std::min<uint64_t>(a[2].Uint(), 1 << 20);
  const size_t max_rec = Reclen(is64, vfs::kNameMax);
  ErrnoOr<int64_t> start = f->Seek(t, 0, SEEK_CUR);
  const bool seekable = start.ok();
  std::vector<uint8_t> buf(count);
  size_t used = 0;
  int64_t last_off = seekable ? *start : 0;
  for (;;) {
    size_t room = count - used;
    if (room < Reclen(is64, 1)) break;
    if (!seekable && used > 0 && room < max_rec) break;
    size_t want = seekable ? room / Reclen(is64, 1) : 1;
    PAL_TRY(std::vector<DirEntry> ents, f->ReadDir(t, want));
    if (ents.empty()) break;
    bool full = false;
    for (const DirEntry& e : ents) {
      size_t rl = Reclen(is64, e.name.size());
      if (rl > count - used) {
        full = true;
        break;
      }
      int64_t off = e.off ? e.off : last_off + 1;
      Encode(is64, e, off, buf.data() + used, rl);
      used += rl;
      last_off = off;
    }
    if (full) {
      if (seekable) (void)f->Seek(t, last_off, SEEK_SET);  // give the rest back
      break;
    }
  }
  if (used == 0 && count > 0) {
    // Nothing fitted: EINVAL if an entry was there (the buffer is too small).
    ErrnoOr<std::vector<DirEntry>> probe = f->ReadDir(t, 1);
    if (probe.ok() && !probe->empty()) {
      if (seekable) (void)f->Seek(t, last_off, SEEK_SET);
      return Errno(EINVAL);
    }
    return int64_t{0};
  }
  if (used == 0) return Errno(EINVAL);
  PAL_TRY_ERRNO(t.CopyOut(addr, buf.data(), used));
  return static_cast<int64_t>(used);
}

// Two path arguments (rename, link).
ErrnoOr<std::pair<std::string, std::string>> TwoPaths(Task& t, uint64_t a, uint64_t b) {
  PAL_TRY(std::string x, CopyInPath(t, a));
  PAL_TRY(std::string y, CopyInPath(t, b));
  return std::make_pair(std::move(x), std::move(y));
}

SyscallResult RenameAt(Task& t, int od, uint64_t op, int nd, uint64_t np, unsigned flags) {
  PAL_TRY(auto paths, TwoPaths(t, op, np));
  return vfs::Renameat(vfs::ContextFor(t), od, paths.first, nd, paths.second, flags);
}

SyscallResult LinkAt(Task& t, int od, uint64_t op, int nd, uint64_t np, int flags) {
  PAL_TRY(auto paths, TwoPaths(t, op, np));
  return vfs::Linkat(vfs::ContextFor(t), od, paths.first, nd, paths.second, flags);
}

SyscallResult MkdirAt(Task& t, int dirfd, uint64_t path_addr, uint32_t mode) {
  PAL_TRY(std::string path, CopyInPath(t, path_addr));
  return vfs::Mkdirat(vfs::ContextFor(t), dirfd, path, mode);
}

SyscallResult UnlinkAt(Task& t, int dirfd, uint64_t path_addr, int flags) {
  PAL_TRY(std::string path, CopyInPath(t, path_addr));
  return vfs::Unlinkat(vfs::ContextFor(t), dirfd, path, flags);
}

SyscallResult SymlinkAt(Task& t, uint64_t target_addr, int dirfd, uint64_t path_addr) {
  PAL_TRY(std::string target, CopyInPath(t, target_addr));
  PAL_TRY(std::string path, CopyInPath(t, path_addr));
  return vfs::Symlinkat(vfs::ContextFor(t), target, dirfd, path);
}

// mknod's dev argument uses the kernel's 32-bit "new" encoding
// (new_decode_dev): 12 bits of major, 20 of minor, interleaved.
SyscallResult MknodAt(Task& t, int dirfd, uint64_t path_addr, uint32_t mode, uint32_t dev) {
  PAL_TRY(std::string path, CopyInPath(t, path_addr));
  uint32_t maj = (dev & 0xfff00) >> 8;
  uint32_t min = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return vfs::Mknodat(vfs::ContextFor(t), dirfd, path, mode, makedev(maj, min));
}

// Per-mount flags mount(2) keeps on a Mount (the rest are operations).
constexpr int kPerMountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                               MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | MS_MANDLOCK | MS_DIRSYNC;

// tmpfs options we honour: mode=, uid=, gid= (size=, nr_inodes= ... are
// accepted and ignored: the sandbox's memory limit bounds tmpfs anyway).
struct TmpfsOptions {
  uint32_t mode = 01777;
  uint32_t uid = 0, gid = 0;
};
ErrnoOr<TmpfsOptions> ParseTmpfsOptions(const std::string& data) {
  TmpfsOptions o;
  size_t i = 0;
  while (i <= data.size()) {
    size_t j = data.find(',', i);
    if (j == std::string::npos) j = data.size();
    std::string opt = data.substr(i, j - i);
    i = j + 1;
    size_t eq = opt.find('=');
    if (eq == std::string::npos) continue;
    std::string key = opt.substr(0, eq), val = opt.substr(eq + 1);
    if (key != "mode" && key != "uid" && key != "gid") continue;
    char* end = nullptr;
    errno = 0;
    unsigned long v = strtoul(val.c_str(), &end, key == "mode" ? 8 : 10);
    if (val.empty() || *end || errno || v > UINT32_MAX) return Errno(EINVAL);
    if (key == "mode") o.mode = static_cast<uint32_t>(v) & 07777;
    if (key == "uid") o.uid = static_cast<uint32_t>(v);
    if (key == "gid") o.gid = static_cast<uint32_t>(v);
  }
  return o;
}

}  // namespace

SyscallResult Getdents64(Task& t, const SyscallArgs& a) { return DoGetdents(t, a, true); }
SyscallResult Getdents(Task& t, const SyscallArgs& a) { return DoGetdents(t, a, false); }

SyscallResult Mkdir(Task& t, const SyscallArgs& a) { return MkdirAt(t, AT_FDCWD, a[0].Ptr(), a[1].Mode()); }
SyscallResult Mkdirat(Task& t, const SyscallArgs& a) { return MkdirAt(t, a[0].Fd(), a[1].Ptr(), a[2].Mode()); }
SyscallResult Rmdir(Task& t, const SyscallArgs& a) { return UnlinkAt(t, AT_FDCWD, a[0].Ptr(), AT_REMOVEDIR); }
SyscallResult Unlink(Task& t, const SyscallArgs& a) { return UnlinkAt(t, AT_FDCWD, a[0].Ptr(), 0); }
SyscallResult Unlinkat(Task& t, const SyscallArgs& a) { return UnlinkAt(t, a[0].Fd(), a[1].Ptr(), a[2].Int()); }

SyscallResult Rename(Task& t, const SyscallArgs& a) { return RenameAt(t, AT_FDCWD, a[0].Ptr(), AT_FDCWD, a[1].Ptr(), 0); }
SyscallResult Renameat(Task& t, const SyscallArgs& a) {
  return RenameAt(t, a[0].Fd(), a[1].Ptr(), a[2].Fd(), a[3].Ptr(), 0);
}
SyscallResult Renameat2(Task& t, const SyscallArgs& a) {
  return RenameAt(t, a[0].Fd(), a[1].Ptr(), a[2].Fd(), a[3].Ptr(), a[4].Uint());
}

SyscallResult Symlink(Task& t, const SyscallArgs& a) { return SymlinkAt(t, a[0].Ptr(), AT_FDCWD, a[1].Ptr()); }
SyscallResult Symlinkat(Task& t, const SyscallArgs& a) { return SymlinkAt(t, a[0].Ptr(), a[1].Fd(), a[2].Ptr()); }

SyscallResult Link(Task& t, const SyscallArgs& a) { return LinkAt(t, AT_FDCWD, a[0].Ptr(), AT_FDCWD, a[1].Ptr(), 0); }
SyscallResult Linkat(Task& t, const SyscallArgs& a) {
  return LinkAt(t, a[0].Fd(), a[1].Ptr(), a[2].Fd(), a[3].Ptr(), a[4].Int());
}

SyscallResult Mknod(Task& t, const SyscallArgs& a) {
  return MknodAt(t, AT_FDCWD, a[0].Ptr(), a[1].Mode(), a[2].Uint());
}
SyscallResult Mknodat(Task& t, const SyscallArgs& a) {
  return MknodAt(t, a[0].Fd(), a[1].Ptr(), a[2].Mode(), a[3].Uint());
}

SyscallResult Chdir(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::string path, CopyInPath(t, a[0].Ptr()));
  vfs::PathContext ctx = vfs::ContextFor(t);
  PAL_TRY(VirtualPath p, vfs::Resolve(ctx, AT_FDCWD, path, {.follow = true}));
  PAL_TRY_ERRNO(vfs::CheckEnterable(ctx, p));
  t.fs().set_cwd(std::move(p));
  return int64_t{0};
}

SyscallResult Fchdir(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kAny));  // O_PATH directories work
  VirtualPath p = vfs::PathOf(*f);
  if (!p.valid()) return Errno(ENOTDIR);
  PAL_TRY_ERRNO(vfs::CheckEnterable(vfs::ContextFor(t), p));
  t.fs().set_cwd(std::move(p));
  return int64_t{0};
}

SyscallResult Getcwd(Task& t, const SyscallArgs& a) {
  VirtualPath cwd = t.fs().cwd();
  if (!cwd.valid()) return Errno(ENOENT);
  PAL_TRY(InodeAttr attr, cwd.dentry->inode()->GetAttr());
  if (attr.nlink == 0) return Errno(ENOENT);  // the cwd was removed
  bool reachable = false;
  std::string s = vfs::PathString(cwd, t.fs().root(), &reachable);
  if (!reachable) s = "(unreachable)" + s;  // cwd outside a chroot, as Linux shows it
  size_t len = s.size() + 1;
  if (a[1].Size() < len) return Errno(ERANGE);
  PAL_TRY_ERRNO(t.CopyOut(a[0].Ptr(), s.c_str(), len));
  return static_cast<int64_t>(len);
}

SyscallResult Umask(Task& t, const SyscallArgs& a) { return int64_t{t.fs().exchange_umask(a[0].Uint() & 0777)}; }

SyscallResult Chroot(Task& t, const SyscallArgs& a) {
  PAL_TRY(std::string path, CopyInPath(t, a[0].Ptr()));
  vfs::PathContext ctx = vfs::ContextFor(t);
  PAL_TRY(VirtualPath p, vfs::Resolve(ctx, AT_FDCWD, path, {.follow = true}));
  PAL_TRY_ERRNO(vfs::CheckEnterable(ctx, p));
  if (!ctx.creds.HasCap(CAP_SYS_CHROOT)) return Errno(EPERM);
  t.fs().set_root(std::move(p));  // cwd stays, as chroot(2) says
  return int64_t{0};
}

// mount(2): tmpfs mounts, bind mounts (MS_REC binds the top only),
// MS_REMOUNT of per-mount flags; propagation changes are accepted as
// no-ops (one mount namespace, nothing to propagate to). Other types are
// ENODEV: proc, sysfs and devpts are set up at boot.
SyscallResult Mount(Task& t, const SyscallArgs& a) {
  vfs::PathContext ctx = vfs::ContextFor(t);
  if (!ctx.creds.HasCap(CAP_SYS_ADMIN)) return Errno(EPERM);
  uint64_t flags = a[3].raw;
  if ((flags & 0xffff0000) == MS_MGC_VAL) flags &= 0xffff;  // pre-2.4 magic
  PAL_TRY(std::string target, CopyInPath(t, a[1].Ptr()));
  PAL_TRY(VirtualPath at, vfs::Resolve(ctx, AT_FDCWD, target, {.follow = true}));
  const int per_mount = static_cast<int>(flags) & kPerMountFlags;
  if (flags & MS_REMOUNT) {
    if (at.dentry != at.mount->root()) return Errno(EINVAL);
    at.mount->set_flags(per_mount);
    return int64_t{0};
  }
  if (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) return int64_t{0};
  if (flags & MS_MOVE) return Errno(EINVAL);  // not supported
  std::shared_ptr<vfs::MountNamespace> mns = vfs::GlobalMountNamespace();
  if (!mns) return Errno(EINVAL);
  if (flags & MS_BIND) {
    PAL_TRY(std::string source, CopyInPath(t, a[0].Ptr()));
    PAL_TRY(VirtualPath src, vfs::Resolve(ctx, AT_FDCWD, source, {.follow = true}));
    PAL_TRY(auto m, mns->AddMount(at, src.dentry->inode(), src.mount->fstype(), source, per_mount));
    (void)m;
    return int64_t{0};
  }
  PAL_TRY(std::string fstype, t.CopyInString(a[2].Ptr(), 256));
  if (fstype != "tmpfs") return Errno(ENODEV);
  std::string source = "tmpfs", data;
  if (a[0].Ptr()) {
    PAL_TRY(source, t.CopyInString(a[0].Ptr(), vfs::kPathMax));
  }
  if (a[4].Ptr()) {
    PAL_TRY(data, t.CopyInString(a[4].Ptr(), 4096));
  }
  PAL_TRY(TmpfsOptions o, ParseTmpfsOptions(data));
  PAL_TRY(auto m, mns->AddMount(at, tmpfs::NewTmpfsRoot(o.mode, o.uid, o.gid), "tmpfs", source, per_mount));
  (void)m;
  return int64_t{0};
}

SyscallResult Umount2(Task& t, const SyscallArgs& a) {
  vfs::PathContext ctx = vfs::ContextFor(t);
  int flags = a[1].Int();
  if (!ctx.creds.HasCap(CAP_SYS_ADMIN)) return Errno(EPERM);
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) return Errno(EINVAL);
  if ((flags & MNT_EXPIRE) && (flags & (MNT_FORCE | MNT_DETACH))) return Errno(EINVAL);
  PAL_TRY(std::string target, CopyInPath(t, a[0].Ptr()));
  PAL_TRY(VirtualPath p, vfs::Resolve(ctx, AT_FDCWD, target, {.follow = !(flags & UMOUNT_NOFOLLOW)}));
  auto ns = vfs::GlobalMountNamespace();
  if (!ns) return Errno(EINVAL);
  // MNT_EXPIRE marks for a later call in Linux; first calls answer EAGAIN.
  if (flags & MNT_EXPIRE) return Errno(EAGAIN);
  return ns->Unmount(p, flags & MNT_DETACH);
}

}  // namespace palisade::sys
