#include "sentry/fsimpl/gofer/gofer_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "base/host_fstat.h"
#include "sentry/mm/file_memory.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/vfs/inode_file.h"

namespace palisade::gofer {

ErrnoOr<int64_t> HostPread(int fd, std::span<uint8_t> dst, int64_t off) {
  for (;;) {
    ssize_t n = pread(fd, dst.data(), dst.size(), off);
    if (n >= 0) return static_cast<int64_t>(n);
    if (errno != EINTR) return Errno::FromHost();
  }
}

namespace {

using SharedFd = std::shared_ptr<UniqueFd>;

ErrnoOr<int64_t> HostPwrite(int fd, std::span<const uint8_t> src, int64_t off) {
  for (;;) {
    ssize_t n = pwrite(fd, src.data(), src.size(), off);
    if (n >= 0) return static_cast<int64_t>(n);
    if (errno != EINTR) return Errno::FromHost();
  }
}

ErrnoOr<int64_t> HostSize(int fd) {
  struct stat st;
  if (HostFstat(fd, &st) != 0) return Errno::FromHost();
  return static_cast<int64_t>(st.st_size);
}

class GoferMappable : public MappableFile {
 public:
  GoferMappable(std::shared_ptr<GoferInode> inode, SharedFd fd, bool writable, std::string name)
      : inode_(std::move(inode)),
        fd_(std::move(fd)),
        writable_(writable),
        name_(std::move(name)),
        dev_(inode_->host_dev()),
        ino_(inode_->host_ino()) {}
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) override { return HostPread(fd_->get(), dst, off); }
  ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off) override {
    if (!writable_) return Errno(EACCES);
    // Write-back never grows the file.
    PAL_TRY(int64_t size, HostSize(fd_->get()));
    if (off >= size) return int64_t{0};
    return HostPwrite(fd_->get(), src.first(std::min<size_t>(src.size(), size - off)), off);
  }
  int64_t Size() override {
    // An immutable file's size is its cache's (no host call: this is asked
    // on every copy from a mapping of the file).
    if (FileMemory* c = cache_ptr_.load(std::memory_order_acquire)) return c->Size();
    auto s = HostSize(fd_->get());
    return s.ok() ? *s : 0;
  }
  std::string Name() const override { return name_; }
  uint64_t Dev() const override { return dev_; }
  uint64_t Ino() const override { return ino_; }
  FileMemory* ImmutablePages() override {
    std::lock_guard<std::mutex> l(mu_);
    if (!cache_asked_) {
      cache_asked_ = true;
      cache_ = inode_->PageCache(fd_);
      cache_ptr_.store(cache_.get(), std::memory_order_release);
    }
    return cache_.get();
  }

 private:
  const std::shared_ptr<GoferInode> inode_;
  std::mutex mu_;
  bool cache_asked_ = false;             // guarded by mu_
  std::shared_ptr<FileMemory> cache_;    // guarded by mu_; see ImmutablePages
  std::atomic<FileMemory*> cache_ptr_{nullptr};  // cache_, for lock-free reads
  SharedFd fd_;
  bool writable_;
  std::string name_;
  uint64_t dev_, ino_;
};

class GoferRegularFile : public vfs::InodeFile {
 public:
  GoferRegularFile(std::shared_ptr<GoferInode> inode, SharedFd fd, int flags)
      : vfs::InodeFile(inode, flags), host_(std::move(inode)), fd_(std::move(fd)) {}

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override {
    std::lock_guard<std::mutex> l(mu_);
    PAL_TRY(int64_t n, HostPread(fd(), dst, pos_));
    pos_ += n;
    return n;
  }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override {
    std::lock_guard<std::mutex> l(mu_);
    int64_t off = pos_;
    if (flags() & O_APPEND) {
      PAL_TRY(off, HostSize(fd()));
    }
    PAL_TRY(int64_t n, HostPwrite(fd(), src, off));
    pos_ = off + n;
    return n;
  }
  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override {
    if (off < 0) return Errno(EINVAL);
    return HostPread(fd(), dst, off);
  }
  ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off) override {
    if (off < 0) return Errno(EINVAL);
    std::lock_guard<std::mutex> l(mu_);  // serializes with O_APPEND writes
    if (flags() & O_APPEND) {  // as Linux (pwrite(2) BUGS)
      PAL_TRY(off, HostSize(fd()));
    }
    return HostPwrite(fd(), src, off);
  }
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override {
    std::lock_guard<std::mutex> l(mu_);
    int64_t base;
    switch (whence) {
      case SEEK_SET: base = 0; break;
      case SEEK_CUR: base = pos_; break;
      case SEEK_END: {
        PAL_TRY(base, HostSize(fd()));
        break;
      }
      case SEEK_DATA:
      case SEEK_HOLE: {
        off_t r = lseek(fd(), off, whence);  // the host fd's offset is unused
        if (r < 0) return Errno::FromHost();
        pos_ = r;
        return static_cast<int64_t>(r);
      }
      default: return Errno(EINVAL);
    }
    int64_t np;
    if (__builtin_add_overflow(base, off, &np) || np < 0) return Errno(EINVAL);
    pos_ = np;
    return np;
  }
  Errno Truncate(Task& t, int64_t size) override {
    return ftruncate(fd(), size) == 0 ? Errno::Ok() : Errno::FromHost();
  }
  Errno Sync(Task& t) override { return fsync(fd()) == 0 ? Errno::Ok() : Errno::FromHost(); }
  Errno Allocate(Task& t, int mode, int64_t off, int64_t len) override {
    return fallocate(fd(), mode, off, len) == 0 ? Errno::Ok() : Errno::FromHost();
  }
  std::shared_ptr<MappableFile> Mappable() override {
    return std::make_shared<GoferMappable>(host_, fd_, writable(), DisplayName());
  }

 private:
  int fd() const { return fd_->get(); }
  std::shared_ptr<GoferInode> host_;
  SharedFd fd_;  // shared with mappings, which outlive the description
  std::mutex mu_;
  int64_t pos_ = 0;  // guarded by mu_
};

}  // namespace

FileRef NewGoferRegularFile(std::shared_ptr<GoferInode> inode, SharedFd fd, int flags) {
  return std::make_shared<GoferRegularFile>(std::move(inode), std::move(fd), flags);
}

}  // namespace palisade::gofer
