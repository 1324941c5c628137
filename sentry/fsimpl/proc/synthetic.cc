#include "sentry/fsimpl/proc/synthetic.h"

#include <dirent.h>

#include <functional>
#include <mutex>

#include "sentry/kernel/task.h"

namespace palisade::procfs {
namespace {

struct timespec Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

// The bytes of a synthetic file, generated once at open (as seq_file does
// for small files), so reads in small chunks see one consistent snapshot.
class SnapshotFile : public FileDescription {
 public:
  SnapshotFile(int flags, std::string data, InodeRef inode, SyntheticFile::Writer writer = nullptr)
      : FileDescription(flags), data_(std::move(data)), inode_(std::move(inode)), writer_(std::move(writer)) {}
  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override {
    std::lock_guard<std::mutex> l(mu_);
    auto r = ReadAt(dst, off_);
    if (r.ok()) off_ += *r;
    return r;
  }
  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override {
    if (off < 0) return Errno(EINVAL);
    return ReadAt(dst, off);
  }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override {
    if (!writer_) return Errno(EACCES);
    return writer_(t, src);
  }
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override {
    std::lock_guard<std::mutex> l(mu_);
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? off_ : whence == SEEK_END ? int64_t(data_.size()) : -1;
    if (base < 0 || base + off < 0) return Errno(EINVAL);
    off_ = base + off;
    return off_;
  }
  ErrnoOr<struct stat> Stat(Task& t) override {
    PAL_TRY(InodeAttr a, inode_->GetAttr());
    return InodeAttrToStat(a);
  }
  std::string DisplayName() const override { return "proc"; }

 private:
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) {
    if (off >= static_cast<int64_t>(data_.size())) return int64_t(0);
    size_t n = std::min(dst.size(), data_.size() - off);
    memcpy(dst.data(), data_.data() + off, n);
    return int64_t(n);
  }
  std::mutex mu_;
  std::string data_;
  int64_t off_ = 0;
  InodeRef inode_;
  SyntheticFile::Writer writer_;
};

class DirFile : public FileDescription {
 public:
  DirFile(int flags, std::shared_ptr<SyntheticDir> dir) : FileDescription(flags), dir_(std::move(dir)) {}
  ErrnoOr<std::vector<DirEntry>> ReadDir(Task& t, size_t max) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!listed_) {
      PAL_TRY(InodeAttr self, dir_->GetAttr());
      entries_.push_back({self.ino, DT_DIR, "."});
      entries_.push_back({1, DT_DIR, ".."});
      PAL_TRY(auto rest, dir_->ReadDir());
      for (auto& e : rest) entries_.push_back(std::move(e));
      listed_ = true;
    }
    std::vector<DirEntry> out;
    while (pos_ < entries_.size() && out.size() < max) out.push_back(entries_[pos_++]);
    return out;
  }
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override {
    std::lock_guard<std::mutex> l(mu_);
    if (whence != SEEK_SET || off < 0) return Errno(EINVAL);
    pos_ = static_cast<size_t>(off);
    if (off == 0) {
      listed_ = false;
      entries_.clear();
    }
    return off;
  }
  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t>) override { return Errno(EISDIR); }
  ErrnoOr<struct stat> Stat(Task& t) override {
    PAL_TRY(InodeAttr a, dir_->GetAttr());
    return InodeAttrToStat(a);
  }

 private:
  std::mutex mu_;
  std::shared_ptr<SyntheticDir> dir_;
  std::vector<DirEntry> entries_;
  size_t pos_ = 0;
  bool listed_ = false;
};

class PathFile : public FileDescription {
 public:
  PathFile() : FileDescription(O_PATH) {}
};

InodeAttr BaseAttr(const std::string& key, uint32_t mode, Owner o) {
  InodeAttr a;
  a.dev = kProcFsId;
  a.ino = InoFor(key);
  a.mode = mode;
  a.uid = o.uid;
  a.gid = o.gid;
  a.atime = a.mtime = a.ctime = a.btime = Now();
  a.blksize = 1024;
  return a;
}

}  // namespace

uint64_t InoFor(const std::string& key) { return (std::hash<std::string>{}(key) & 0xffffffffffull) | 0x1000; }

ErrnoOr<InodeAttr> SyntheticFile::GetAttr() { return BaseAttr(key_, S_IFREG | mode_, owner_); }

Errno SyntheticFile::SetAttr(const SetAttrRequest& req) {
  constexpr uint32_t kTruncate = SetAttrRequest::kSize | SetAttrRequest::kAtime | SetAttrRequest::kMtime |
                                 SetAttrRequest::kCtime;
  if (!writer_ || (req.mask & ~kTruncate)) return Errno(EPERM);
  return Errno::Ok();
}

ErrnoOr<FileRef> SyntheticFile::Open(const OpenRequest& req) {
  int acc = req.flags & O_ACCMODE;
  if (acc != O_RDONLY && !(mode_ & 0222)) return Errno(EACCES);
  if (req.flags & O_PATH) return FileRef(std::make_shared<SnapshotFile>(req.flags, "", shared_from_this()));
  // A write-only open generates nothing: the task may be writing its
  // own file, and the snapshot is never read.
  std::string data;
  if (acc != O_WRONLY) {
    PAL_TRY(data, gen_());
  }
  return FileRef(std::make_shared<SnapshotFile>(req.flags, std::move(data), shared_from_this(), writer_));
}

ErrnoOr<InodeAttr> SyntheticSymlink::GetAttr() {
  InodeAttr a = BaseAttr(key_, S_IFLNK | 0777, owner_);
  auto t = target_();
  a.size = t.ok() ? static_cast<int64_t>(t->size()) : 0;
  return a;
}

ErrnoOr<InodeAttr> SyntheticDir::GetAttr() {
  InodeAttr a = BaseAttr(key_, S_IFDIR | mode_, owner_);
  a.nlink = 2;
  return a;
}

ErrnoOr<FileRef> SyntheticDir::Open(const OpenRequest& req) {
  if ((req.flags & O_ACCMODE) != O_RDONLY) return Errno(EISDIR);
  return FileRef(std::make_shared<DirFile>(req.flags, std::static_pointer_cast<SyntheticDir>(shared_from_this())));
}

SyntheticDir::Hooks StaticDirHooks(std::vector<std::pair<std::string, std::pair<uint8_t, ChildFactory>>> rows) {
  auto table = std::make_shared<decltype(rows)>(std::move(rows));
  SyntheticDir::Hooks h;
  h.list = [table] {
    std::vector<DirEntry> out;
    for (auto& [name, row] : *table) out.push_back({InoFor(name), row.first, name});
    return out;
  };
  h.lookup = [table](std::string_view name) -> ErrnoOr<InodeRef> {
    for (auto& [n, row] : *table)
      if (n == name) return row.second();
    return Errno(ENOENT);
  };
  return h;
}

FileRef PathOnlyFile(const VirtualPath& p) {
  auto f = std::make_shared<PathFile>();
  f->set_path(p.mount, p.dentry);
  return f;
}

}  // namespace palisade::procfs
