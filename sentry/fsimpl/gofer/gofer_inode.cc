// Gofer client inodes: each operation is one gofer RPC on fids (the gofer
// checks every name; see gofer/server/server.h).
#include "sentry/fsimpl/gofer/gofer_inode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "absl/strings/str_cat.h"
#include "sentry/fsimpl/gofer/gofer_file.h"
#include "sentry/fsimpl/gofer/gofer_fs.h"
#include "sentry/fsimpl/gofer/page_cache_retention.h"
#include "sentry/vfs/inode_file.h"
#include "sentry/vfs/vfs.h"

namespace palisade::gofer {
namespace {

struct timespec Ts(const proto::Timespec& t) { return {t.sec(), t.nsec()}; }

// The VFS never passes these; checked here too so a bad name costs no RPC.
Errno CheckName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return Errno(ENOENT);
  if (name.find('/') != std::string_view::npos) return Errno(EINVAL);
  if (name.size() > vfs::kNameMax) return Errno(ENAMETOOLONG);
  return Errno::Ok();
}

}  // namespace

InodeAttr AttrFromProto(const proto::Attr& a) {
  InodeAttr r;
  r.dev = a.dev();
  r.ino = a.ino();
  r.mode = a.mode();
  r.nlink = a.nlink();
  r.uid = a.uid();
  r.gid = a.gid();
  r.rdev = a.rdev();
  r.size = a.size();
  r.blksize = a.blksize();
  r.blocks = a.blocks();
  r.atime = Ts(a.atime());
  r.mtime = Ts(a.mtime());
  r.ctime = Ts(a.ctime());
  r.btime = Ts(a.btime());
  return r;
}

std::shared_ptr<GoferInode> GoferFs::Intern(const proto::Node& node) {
  InodeAttr a = AttrFromProto(node.attr());
  std::lock_guard<std::mutex> l(mu_);
  auto key = std::make_pair(a.dev, a.ino);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    if (std::shared_ptr<GoferInode> live = it->second.lock()) {
      client_->Release(node.fid());
      return live;
    }
  }
  auto inode = std::make_shared<GoferInode>(shared_from_this(), node.fid(), a);
  cache_[key] = inode;
  return inode;
}

void GoferFs::Forget(uint64_t dev, uint64_t ino) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = cache_.find(std::make_pair(dev, ino));
  if (it != cache_.end() && it->second.expired()) cache_.erase(it);
}

GoferInode::GoferInode(std::shared_ptr<GoferFs> fs, uint64_t fid, const InodeAttr& attr)
    : fs_(std::move(fs)), fid_(fid), dev_(attr.dev), ino_(attr.ino), type_(attr.mode & S_IFMT) {
  if (type_ == S_IFIFO) fifo_ = std::make_unique<FifoState>();
  if (fs_->readonly()) attr_ = attr;
}

GoferInode::~GoferInode() {
  if (fid_ == fs_->root_fid()) fs_->dentries().Clear();
  fs_->Forget(dev_, ino_);
  fs_->client().Release(fid_);
}

std::shared_ptr<FileMemory> GoferInode::PageCache(const std::shared_ptr<UniqueFd>& fd) {
  if (type_ != S_IFREG || !fs_->dentries().enabled() || !fd) return nullptr;
  ErrnoOr<InodeAttr> attr = GetAttr();  // cached on this tree
  if (!attr.ok()) return nullptr;
  std::lock_guard<std::mutex> l(mu_);
  if (std::shared_ptr<FileMemory> live = page_cache_.lock()) {
    RetainPageCache(live);
    return live;
  }
  auto cache = FileMemory::NewImmutableCache(
      MemoryFile::ForFiles(), attr->size,
      [fd](std::span<uint8_t> dst, int64_t off) { return HostPread(fd->get(), dst, off); });
  if (!cache.ok()) return nullptr;  // private copies, as without a cache
  page_cache_ = *cache;
  RetainPageCache(*cache);
  return *cache;
}

void GoferInode::Invalidate() {
  std::lock_guard<std::mutex> l(mu_);
  attr_.reset();
}

ErrnoOr<InodeAttr> GoferInode::GetAttr() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (attr_) return *attr_;
  }
  proto::Request req;
  req.mutable_stat()->set_fid(fid_);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return AttrFromProto(resp.attr());
}

Errno GoferInode::SetAttr(const SetAttrRequest& r) {
  PAL_TRY_ERRNO(CheckWritable());
  if ((r.mask & SetAttrRequest::kMode) && type_ == S_IFLNK) return Errno(EOPNOTSUPP);
  proto::Request req;
  auto* s = req.mutable_setattr();
  s->set_fid(fid_);
  // ctime: the host sets it on each change.
  s->set_mask(r.mask & ~SetAttrRequest::kCtime);
  s->set_mode(r.mode);
  s->set_uid(r.uid);
  s->set_gid(r.gid);
  s->set_size(r.size);
  s->mutable_atime()->set_sec(r.atime.tv_sec);
  s->mutable_atime()->set_nsec(r.atime.tv_nsec);
  s->mutable_mtime()->set_sec(r.mtime.tv_sec);
  s->mutable_mtime()->set_nsec(r.mtime.tv_nsec);
  if (s->mask() == 0) return Errno::Ok();
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return Errno::Ok();
}

ErrnoOr<InodeRef> GoferInode::NodeFrom(const proto::Response& resp) {
  if (resp.nodes_size() != 1) return Errno(EIO);
  return InodeRef(fs_->Intern(resp.nodes(0)));
}

ErrnoOr<InodeRef> GoferInode::Lookup(std::string_view name) {
  if (type_ != S_IFDIR) return Errno(ENOTDIR);
  PAL_TRY_ERRNO(CheckName(name));
  const bool cached = fs_->dentries().enabled();
  if (cached) {
    if (auto hit = fs_->dentries().Find(fid_, name)) return *hit;
  }
  proto::Request req;
  req.mutable_walk()->set_dir(fid_);
  req.mutable_walk()->add_names(std::string(name));
  ErrnoOr<proto::Response> resp = fs_->client().Call(std::move(req));
  ErrnoOr<InodeRef> result = resp.ok() ? NodeFrom(*resp) : ErrnoOr<InodeRef>(resp.error());
  if (cached) fs_->dentries().Insert(fid_, name, result);
  return result;
}

ErrnoOr<InodeRef> GoferInode::Create(std::string_view name, uint32_t mode, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(name));
  proto::Request req;
  auto* m = req.mutable_create();
  m->set_dir(fid_);
  m->set_name(std::string(name));
  m->set_mode(mode & 07777);
  m->set_uid(c.fsuid);
  m->set_gid(c.fsgid);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return NodeFrom(resp);
}

ErrnoOr<InodeRef> GoferInode::Mkdir(std::string_view name, uint32_t mode, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(name));
  proto::Request req;
  auto* m = req.mutable_mkdir();
  m->set_dir(fid_);
  m->set_name(std::string(name));
  m->set_mode(mode & 07777);
  m->set_uid(c.fsuid);
  m->set_gid(c.fsgid);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return NodeFrom(resp);
}

ErrnoOr<InodeRef> GoferInode::Mknod(std::string_view name, uint32_t mode, uint64_t rdev, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(name));
  const uint32_t type = mode & S_IFMT;
  // Device nodes are never created on the host.
  if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return Errno(EPERM);
  proto::Request req;
  auto* m = req.mutable_mknod();
  m->set_dir(fid_);
  m->set_name(std::string(name));
  m->set_mode(mode);
  m->set_uid(c.fsuid);
  m->set_gid(c.fsgid);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return NodeFrom(resp);
}

ErrnoOr<InodeRef> GoferInode::Symlink(std::string_view name, std::string_view target, const Credentials& c) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(name));
  proto::Request req;
  auto* m = req.mutable_symlink();
  m->set_dir(fid_);
  m->set_name(std::string(name));
  m->set_target(std::string(target));
  m->set_uid(c.fsuid);
  m->set_gid(c.fsgid);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return NodeFrom(resp);
}

Errno GoferInode::Link(std::string_view name, const InodeRef& target) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(name));
  auto t = std::dynamic_pointer_cast<GoferInode>(target);
  if (!t || t->fs_ != fs_) return Errno(EXDEV);
  proto::Request req;
  req.mutable_link()->set_target(t->fid_);
  req.mutable_link()->set_dir(fid_);
  req.mutable_link()->set_name(std::string(name));
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return Errno::Ok();
}

Errno GoferInode::Unlink(std::string_view name) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(name));
  proto::Request req;
  req.mutable_unlink()->set_dir(fid_);
  req.mutable_unlink()->set_name(std::string(name));
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return Errno::Ok();
}

Errno GoferInode::Rmdir(std::string_view name) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(name));
  proto::Request req;
  req.mutable_unlink()->set_dir(fid_);
  req.mutable_unlink()->set_name(std::string(name));
  req.mutable_unlink()->set_rmdir(true);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return Errno::Ok();
}

Errno GoferInode::Rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) {
  PAL_TRY_ERRNO(CheckWritable());
  PAL_TRY_ERRNO(CheckName(old_name));
  PAL_TRY_ERRNO(CheckName(new_name));
  auto* nd = dynamic_cast<GoferInode*>(&new_dir);
  if (!nd || nd->fs_ != fs_) return Errno(EXDEV);
  proto::Request req;
  auto* m = req.mutable_rename();
  m->set_old_dir(fid_);
  m->set_old_name(std::string(old_name));
  m->set_new_dir(nd->fid_);
  m->set_new_name(std::string(new_name));
  m->set_flags(flags);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return Errno::Ok();
}

ErrnoOr<std::vector<DirEntry>> GoferInode::ReadDir() {
  if (type_ != S_IFDIR) return Errno(ENOTDIR);
  std::vector<DirEntry> all;
  int64_t offset = 0;
  for (;;) {
    proto::Request req;
    req.mutable_readdir()->set_fid(fid_);
    req.mutable_readdir()->set_offset(offset);
    PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
    if (resp.entries_size() == 0) break;
    for (const proto::DirEntry& e : resp.entries()) {
      all.push_back(DirEntry{e.ino(), static_cast<uint8_t>(e.type()), e.name(), 0});
      offset = e.offset();
    }
  }
  return all;
}

ErrnoOr<std::string> GoferInode::ReadLink() {
  if (type_ != S_IFLNK) return Errno(EINVAL);
  proto::Request req;
  req.mutable_readlink()->set_fid(fid_);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  return resp.link_target();
}

ErrnoOr<struct statfs> GoferInode::StatFs() {
  proto::Request req;
  req.mutable_statfs()->set_fid(fid_);
  PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req)));
  const proto::StatFs& p = resp.statfs();
  struct statfs s {};
  s.f_type = p.type();
  s.f_bsize = p.bsize();
  s.f_blocks = p.blocks();
  s.f_bfree = p.bfree();
  s.f_bavail = p.bavail();
  s.f_files = p.files();
  s.f_ffree = p.ffree();
  s.f_namelen = p.namelen();
  s.f_frsize = p.frsize();
  s.f_flags = p.flags();
  if (fs_->readonly()) s.f_flags |= ST_RDONLY;
  return s;
}

ErrnoOr<FileRef> GoferInode::Open(const OpenRequest& r) {
  const int acc = r.flags & O_ACCMODE;
  auto self = std::static_pointer_cast<GoferInode>(shared_from_this());
  switch (type_) {
    case S_IFDIR: return FileRef(std::make_shared<vfs::DirectoryFile>(std::move(self), r.flags));
    case S_IFREG: {
      if (acc != O_RDONLY) PAL_TRY_ERRNO(CheckWritable());
      const int host_flags = acc | (r.flags & (O_DIRECT | O_SYNC | O_DSYNC));
      const bool shareable = host_flags == O_RDONLY && fs_->dentries().enabled();
      if (shareable) {
        std::lock_guard<std::mutex> l(mu_);
        if (ro_fd_) return NewGoferRegularFile(std::move(self), ro_fd_, r.flags);
      }
      proto::Request req;
      req.mutable_open()->set_fid(fid_);
      // O_APPEND stays ours: a host O_APPEND fd would make pwrite append too.
      req.mutable_open()->set_flags(host_flags);
      UniqueFd fd;
      PAL_TRY(proto::Response resp, fs_->client().Call(std::move(req), &fd));
      if (!fd.ok()) return Errno(EIO);
      auto shared = std::make_shared<UniqueFd>(std::move(fd));
      if (shareable) {
        std::lock_guard<std::mutex> l(mu_);
        if (!ro_fd_) ro_fd_ = shared;
      }
      return NewGoferRegularFile(std::move(self), std::move(shared), r.flags);
    }
    case S_IFLNK: return Errno(ELOOP);
    case S_IFCHR:
    case S_IFBLK: return Errno(EACCES);  // the sandbox's devices are devfs's
    case S_IFIFO: return fifo_->Open(r.task, r.flags);
    default: return Errno(ENXIO);
  }
}

absl::StatusOr<InodeRef> NewGoferRoot(std::shared_ptr<Client> client, const std::string& path,
                                      bool readonly, NameCache names) {
  auto fs = std::make_shared<GoferFs>(client, vfs::AllocateFsId(), readonly, names == NameCache::kOn);
  proto::Request req;
  req.mutable_attach()->set_path(path);
  auto resp = client->Call(std::move(req));
  if (!resp.ok()) {
    return absl::UnavailableError(absl::StrCat("gofer attach \"", path, "\": ", resp.error().Name()));
  }
  if (resp->nodes_size() != 1) return absl::InternalError("gofer attach: bad reply");
  // A directory, or a file for a file bind mount (the VFS allows both).
  fs->set_root_fid(resp->nodes(0).fid());
  return InodeRef(fs->Intern(resp->nodes(0)));
}

}  // namespace palisade::gofer
