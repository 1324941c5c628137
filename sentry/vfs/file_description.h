// FileDescription: an open file (Linux's struct file). Shared by every fd
// that dup()s it and across fork. Implementations never block: an
// operation that would block returns EAGAIN, and the syscall layer
// (sentry/syscalls/blocking_io.h) sleeps on the file's readiness unless
// O_NONBLOCK is set. Offsets are kept here for seekable files.
//
//   auto fd = inode->Open(...);           // some filesystem makes it
//   ErrnoOr<int64_t> n = fd->Read(t, buf);
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/errno.h"
#include "sentry/kernel/waiter.h"

namespace palisade {

class Task;
class Dentry;
class Mount;
class MappableFile;

// One directory entry as getdents64 reports it.
struct DirEntry {
  uint64_t ino = 0;
  uint8_t type = 0;  // DT_*
  std::string name;
  // Directory position just after this entry (getdents' d_off; seeking
  // there resumes at the next entry). 0 when the producer has none.
  int64_t off = 0;
};

class FileDescription : public std::enable_shared_from_this<FileDescription> {
 public:
  // Reports IN_CLOSE_WRITE/IN_CLOSE_NOWRITE for files opened by path
  // (sentry/vfs/fsnotify.h): this is the last close of the open file.
  virtual ~FileDescription();

  // Sequential I/O at the file's own offset (or streaming).
  virtual ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst);
  virtual ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src);
  // Positional I/O; ESPIPE by default (pipes, sockets, ttys).
  virtual ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off);
  virtual ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off);
  // Write (off < 0) or PWrite of host memory the caller keeps valid: the
  // sentry's views of app buffers (MemoryManager::WithReadableViews), so
  // the bytes are copied once. Only files whose WritesViews() is true
  // implement it; their writes never block nor touch app memory, since the
  // caller holds the mm lock.
  virtual bool WritesViews() const { return false; }
  virtual ErrnoOr<int64_t> WriteViews(Task& t, std::span<const struct iovec> src, int64_t off) {
    return Errno(EINVAL);
  }
  virtual ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence);
  virtual ErrnoOr<struct stat> Stat(Task& t);
  virtual Errno Truncate(Task& t, int64_t size);
  virtual Errno Sync(Task& t) { return Errno::Ok(); }
  // fallocate(2) with its mode bits (FALLOC_FL_*); arguments already
  // validated (off >= 0, len > 0, fd writable). ENODEV: not supported
  // for this kind of file, as Linux answers for most special files.
  virtual Errno Allocate(Task& t, int mode, int64_t off, int64_t len) { return Errno(ENODEV); }
  // Directory listing from the current position; advances it. ENOTDIR
  // for non-directories. Returns an empty vector at end.
  virtual ErrnoOr<std::vector<DirEntry>> ReadDir(Task& t, size_t max_entries);
  virtual ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg);
  // poll(2) events currently true, restricted to mask.
  virtual uint32_t Readiness(uint32_t mask);
  // Wait for readiness changes. Default: always ready, nothing to wait on.
  virtual void EventRegister(Waiter* w, uint32_t mask) {}
  virtual void EventUnregister(Waiter* w) {}
  // Host fd to poll() instead of a WaitQueue (host stdio passthrough), or -1.
  virtual int HostFdForPoll() const { return -1; }
  // For mmap(2): the file's content source, or nullptr (ENODEV).
  virtual std::shared_ptr<MappableFile> Mappable() { return nullptr; }
  // Name as /proc/<pid>/fd/N shows it ("/etc/passwd", "pipe:[12]").
  virtual std::string DisplayName() const;

  // Open flags. Access mode is fixed at open; status flags (O_APPEND,
  // O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME) change with F_SETFL.
  int flags() const { return flags_.load(); }
  void set_status_flags(int f);
  bool readable() const { int m = flags() & O_ACCMODE; return m == O_RDONLY || m == O_RDWR; }
  bool writable() const { int m = flags() & O_ACCMODE; return m == O_WRONLY || m == O_RDWR; }
  bool nonblocking() const { return flags() & O_NONBLOCK; }

  // The path this file was opened at (null for anonymous files).
  std::shared_ptr<Dentry> dentry() const { return dentry_; }
  std::shared_ptr<Mount> mount() const { return mount_; }
  void set_path(std::shared_ptr<Mount> m, std::shared_ptr<Dentry> d) {
    mount_ = std::move(m);
    dentry_ = std::move(d);
  }

 protected:
  explicit FileDescription(int flags) : flags_(flags) {}
  std::atomic<int> flags_;
  std::shared_ptr<Mount> mount_;
  std::shared_ptr<Dentry> dentry_;
};

using FileRef = std::shared_ptr<FileDescription>;

}  // namespace palisade
