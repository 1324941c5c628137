#include "sentry/fsimpl/devpts/devpts.h"

#include <dirent.h>
#include <sys/sysmacros.h>

#include <charconv>
#include <map>
#include <mutex>

#include "sentry/fsimpl/devpts/pty_files.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/inode_file.h"
#include "sentry/vfs/vfs.h"

namespace palisade::devpts {
namespace {

// The instance: identity and the index -> pair table.
struct Instance {
  uint64_t fsid;
  uint64_t dev;
  struct timespec ctime;
  std::mutex mu;
  std::map<int, std::weak_ptr<Terminal>> ptys;  // guarded by mu
};

Instance& Inst() {
  static Instance* i = [] {
    auto* in = new Instance;  // leaked: files may outlive static destruction
    in->fsid = vfs::AllocateFsId();
    in->dev = makedev(0, in->fsid & 0xfffff);
    clock_gettime(CLOCK_REALTIME, &in->ctime);
    return in;
  }();
  return *i;
}

// A pair is visible as /dev/pts/N while its master is open.
std::shared_ptr<Terminal> Find(int index) {
  Instance& in = Inst();
  std::lock_guard<std::mutex> l(in.mu);
  auto it = in.ptys.find(index);
  if (it == in.ptys.end()) return nullptr;
  auto t = it->second.lock();
  if (!t || t->hung_up()) return nullptr;
  return t;
}

InodeAttr BaseAttr(uint64_t ino, uint32_t mode, uint64_t rdev) {
  Instance& in = Inst();
  InodeAttr a;
  a.dev = in.dev;
  a.ino = ino;
  a.mode = mode;
  a.nlink = S_ISDIR(mode) ? 2 : 1;
  a.rdev = rdev;
  a.blksize = 1024;
  a.atime = a.mtime = a.ctime = in.ctime;
  return a;
}

InodeAttr PtmxAttr() { return BaseAttr(2, S_IFCHR | 0666, makedev(5, 2)); }

class ReplicaInode final : public Inode {
 public:
  explicit ReplicaInode(std::shared_ptr<Terminal> term) : term_(std::move(term)) {}
  ErrnoOr<InodeAttr> GetAttr() override { return term_->ReplicaAttr(Inst().dev); }
  Errno SetAttr(const SetAttrRequest& req) override {
    term_->SetReplicaAttr(req);
    return Errno::Ok();
  }
  ErrnoOr<FileRef> Open(const OpenRequest& req) override {
    return OpenReplica(term_, req.task, req.flags);
  }
  uint64_t FsId() const override { return Inst().fsid; }

 private:
  std::shared_ptr<Terminal> term_;
};

class PtmxInode final : public Inode {
 public:
  ErrnoOr<InodeAttr> GetAttr() override { return PtmxAttr(); }
  ErrnoOr<FileRef> Open(const OpenRequest& req) override {
    Task* t = req.task ? req.task : CurrentTask();
    if (!t || !req.creds) return Errno(ENXIO);
    return OpenMaster(t->kernel(), *req.creds, req.flags);
  }
  uint64_t FsId() const override { return Inst().fsid; }
};

class RootInode final : public Inode {
 public:
  ErrnoOr<InodeAttr> GetAttr() override { return BaseAttr(1, S_IFDIR | 0755, 0); }
  ErrnoOr<InodeRef> Lookup(std::string_view name) override {
    if (name == "ptmx") return ptmx_;
    int n = -1;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    // Only canonical numbers ("3", not "03" or "+3").
    if (ec != std::errc() || p != name.data() + name.size() || n < 0 || (name.size() > 1 && name[0] == '0')) {
      return Errno(ENOENT);
    }
    auto term = Find(n);
    if (!term) return Errno(ENOENT);
    return InodeRef(std::make_shared<ReplicaInode>(term));
  }
  ErrnoOr<std::vector<DirEntry>> ReadDir() override {
    std::vector<DirEntry> out{{2, DT_CHR, "ptmx"}};
    Instance& in = Inst();
    std::lock_guard<std::mutex> l(in.mu);
    for (auto& [n, w] : in.ptys) {
      auto t = w.lock();
      if (t && !t->hung_up()) out.push_back({static_cast<uint64_t>(n) + 3, DT_CHR, std::to_string(n)});
    }
    return out;
  }
  // Nothing can be created or removed in devpts (no such inode ops).
  ErrnoOr<InodeRef> Create(std::string_view, uint32_t, const Credentials&) override { return Errno(EACCES); }
  ErrnoOr<InodeRef> Mkdir(std::string_view, uint32_t, const Credentials&) override { return Errno(EPERM); }
  ErrnoOr<InodeRef> Mknod(std::string_view, uint32_t, uint64_t, const Credentials&) override { return Errno(EPERM); }
  ErrnoOr<InodeRef> Symlink(std::string_view, std::string_view, const Credentials&) override { return Errno(EPERM); }
  Errno Unlink(std::string_view) override { return Errno(EPERM); }
  Errno Rmdir(std::string_view) override { return Errno(EPERM); }
  ErrnoOr<FileRef> Open(const OpenRequest& req) override {
    return FileRef(std::make_shared<vfs::DirectoryFile>(shared_from_this(), req.flags));
  }
  uint64_t FsId() const override { return Inst().fsid; }

 private:
  InodeRef ptmx_ = std::make_shared<PtmxInode>();
};

}  // namespace

InodeRef Root() {
  static InodeRef* r = new InodeRef(std::make_shared<RootInode>());
  return *r;
}

ErrnoOr<FileRef> OpenMaster(Kernel& k, const Credentials& c, int flags) {
  Instance& in = Inst();
  std::shared_ptr<Terminal> term;
  {
    std::lock_guard<std::mutex> l(in.mu);
    int index = 0;
    // Lowest free index; a pair keeps its index until both ends are gone.
    for (auto it = in.ptys.begin(); it != in.ptys.end(); ++it, ++index) {
      if (it->first != index || it->second.expired()) break;
    }
    if (index >= kMaxPtys) return Errno(ENOSPC);
    term = std::make_shared<Terminal>(k, index, c.fsuid, c.fsgid);
    in.ptys[index] = term;
  }
  return FileRef(std::make_shared<MasterFile>(term, flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC), PtmxAttr()));
}

ErrnoOr<FileRef> OpenReplica(const std::shared_ptr<Terminal>& term, Task* opener, int flags) {
  if (term->locked() || term->hung_up()) return Errno(EIO);
  auto f = std::make_shared<ReplicaFile>(term, flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC),
                                         Inst().dev);
  term->ReplicaOpened(opener, flags & O_NOCTTY);
  return FileRef(f);
}

ErrnoOr<PtyPair> OpenPtyPair(Kernel& k, const Credentials& c) {
  PAL_TRY(FileRef master, OpenMaster(k, c, O_RDWR));
  std::shared_ptr<Terminal> term = static_cast<MasterFile&>(*master).terminal();
  term->set_locked(false);  // unlockpt()
  PAL_TRY(FileRef replica, OpenReplica(term, nullptr, O_RDWR | O_NOCTTY));
  return PtyPair{std::move(master), std::move(replica), term->index()};
}

}  // namespace palisade::devpts
