#include "sentry/fsimpl/dev/host_stdio.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>

#include "base/host_fstat.h"
#include "base/unique_fd.h"
#include "sentry/fsimpl/pipe/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/inode.h"
#include "sentry/vfs/vfs.h"

namespace palisade::dev {
namespace {

// How a transfer is kept from blocking (see host_stdio.h).
enum class Kind {
  kRegular,  // regular file or block device: never blocks
  kSocket,   // MSG_DONTWAIT
  kStream,   // pipe, tty, other char device: RWF_NOWAIT, else poll first
};

// struct termios as the TCGETS/TCSETS* ioctls pass it (the kernel's, not
// glibc's, which is larger).
struct KernelTermios {
  uint32_t iflag, oflag, cflag, lflag;
  uint8_t line;
  uint8_t cc[19];
};
static_assert(sizeof(KernelTermios) == 36);

// The sandbox's foreground process group per host terminal (by st_rdev),
// shared by every file on that terminal. Starts at 1: the container's
// init leads the only session.
std::shared_ptr<std::atomic<int>> ForegroundPgrpFor(dev_t rdev) {
  static std::mutex mu;
  static auto* table = new std::map<dev_t, std::shared_ptr<std::atomic<int>>>();  // never freed: process-wide
  std::lock_guard<std::mutex> l(mu);
  auto& slot = (*table)[rdev];
  if (!slot) slot = std::make_shared<std::atomic<int>>(1);
  return slot;
}

// What /proc/<pid>/fd shows: the host's own name if /proc is readable,
// else a Linux-style synthetic one.
std::string HostName(int fd, const struct stat& st) {
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  if (n > 0) return std::string(buf, n);
  if (S_ISFIFO(st.st_mode)) return "pipe:[" + std::to_string(st.st_ino) + "]";
  if (S_ISSOCK(st.st_mode)) return "socket:[" + std::to_string(st.st_ino) + "]";
  return "host:[" + std::to_string(st.st_ino) + "]";
}

// Host poll with no timeout: the events of `events` true right now.
uint32_t PollNow(int fd, uint32_t events) {
  struct pollfd p = {fd, static_cast<short>(events), 0};
  int r;
  do {
    r = poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return 0;
  uint32_t rev = static_cast<uint16_t>(p.revents);
  if (rev & POLLNVAL) rev = POLLERR;  // cannot happen: the dup is ours
  return rev;
}

class HostStdioFile final : public FileDescription {
 public:
  HostStdioFile(UniqueFd fd, int flags, Kind kind, bool tty, dev_t rdev, std::string name)
      : FileDescription(flags),
        fd_(std::move(fd)),
        kind_(kind),
        tty_(tty),
        fg_pgrp_(tty ? ForegroundPgrpFor(rdev) : nullptr),
        name_(std::move(name)) {}

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override {
    if (!readable()) return Errno(EBADF);
    for (;;) {
      ssize_t n;
      if (kind_ == Kind::kSocket) {
        n = recv(fd_.get(), dst.data(), dst.size(), MSG_DONTWAIT);
      } else if (kind_ == Kind::kStream && !nowait_unsupported_.load()) {
        struct iovec iov = {dst.data(), dst.size()};
        n = preadv2(fd_.get(), &iov, 1, -1, RWF_NOWAIT);
        if (n < 0 && errno == EOPNOTSUPP) {
          nowait_unsupported_ = true;  // ttys: poll first from now on
          continue;
        }
      } else {
        if (kind_ == Kind::kStream && !(PollNow(fd_.get(), POLLIN) & (POLLIN | POLLHUP | POLLERR))) {
          return Errno(EAGAIN);
        }
        n = read(fd_.get(), dst.data(), dst.size());
      }
      if (n >= 0) return static_cast<int64_t>(n);
      if (errno == EINTR) continue;  // a host signal to the sentry thread
      if (errno == EWOULDBLOCK) return Errno(EAGAIN);
      return Errno::FromHost();
    }
  }

  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override {
    if (!writable()) return Errno(EBADF);
    for (;;) {
      ssize_t n;
      if (kind_ == Kind::kSocket) {
        n = send(fd_.get(), src.data(), src.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      } else if (kind_ == Kind::kStream) {
        uint32_t ready = PollNow(fd_.get(), POLLOUT);
        // A pipe without readers: answer EPIPE ourselves rather than
        // take the host's SIGPIPE in the sentry.
        if (ready & POLLERR) {
          SendSigpipe(t);
          return Errno(EPIPE);
        }
        if (!nowait_unsupported_.load()) {
          struct iovec iov = {const_cast<uint8_t*>(src.data()), src.size()};
          n = pwritev2(fd_.get(), &iov, 1, -1, RWF_NOWAIT);
          if (n < 0 && errno == EOPNOTSUPP) {
            nowait_unsupported_ = true;
            continue;
          }
        } else {
          if (!(ready & POLLOUT)) return Errno(EAGAIN);
          n = write(fd_.get(), src.data(), src.size());
        }
      } else {
        n = write(fd_.get(), src.data(), src.size());
      }
      if (n >= 0) return static_cast<int64_t>(n);
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK) return Errno(EAGAIN);
      if (errno == EPIPE) SendSigpipe(t);
      return Errno::FromHost();
    }
  }

  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override {
    if (!readable()) return Errno(EBADF);
    ssize_t n = pread(fd_.get(), dst.data(), dst.size(), off);  // ESPIPE for streams
    if (n < 0) return Errno::FromHost();
    return static_cast<int64_t>(n);
  }

  ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off) override {
    if (!writable()) return Errno(EBADF);
    ssize_t n = pwrite(fd_.get(), src.data(), src.size(), off);
    if (n < 0) return Errno::FromHost();
    return static_cast<int64_t>(n);
  }

  // The host offset is the caller's too: shared, as for any dup.
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override {
    off_t r = lseek(fd_.get(), off, whence);
    if (r < 0) return Errno::FromHost();
    return static_cast<int64_t>(r);
  }

  ErrnoOr<struct stat> Stat(Task& t) override {
    if (dentry() && dentry()->inode()) {  // opened as /dev/tty
      PAL_TRY(InodeAttr a, dentry()->inode()->GetAttr());
      return InodeAttrToStat(a);
    }
    struct stat st;
    if (HostFstat(fd_.get(), &st) != 0) return Errno::FromHost();
    return st;
  }

  Errno Truncate(Task& t, int64_t size) override {
    if (ftruncate(fd_.get(), size) != 0) return Errno::FromHost();  // EINVAL for streams
    return Errno::Ok();
  }

  Errno Sync(Task& t) override {
    if (fsync(fd_.get()) != 0) return Errno::FromHost();  // EINVAL for streams
    return Errno::Ok();
  }

  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override;

  uint32_t Readiness(uint32_t mask) override {
    if (kind_ == Kind::kRegular) return mask & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
    return PollNow(fd_.get(), mask) & mask;
  }

  int HostFdForPoll() const override { return kind_ == Kind::kRegular ? -1 : fd_.get(); }

  std::string DisplayName() const override {
    if (dentry()) {
      auto mns = vfs::GlobalMountNamespace();
      return vfs::PathString(vfs::PathOf(*this), mns ? mns->RootPath() : VirtualPath{});
    }
    return name_;
  }

 private:
  ErrnoOr<int64_t> HostIoctl(unsigned long cmd, void* arg) {
    int r;
    do {
      r = ioctl(fd_.get(), cmd, arg);
    } while (r < 0 && errno == EINTR);  // TCSETSW waits for output to drain
    if (r < 0) return Errno::FromHost();
    return static_cast<int64_t>(r);
  }

  template <typename T>
  ErrnoOr<int64_t> IoctlOut(Task& t, unsigned long cmd, uint64_t arg) {
    T v{};
    PAL_TRY(int64_t r, HostIoctl(cmd, &v));
    PAL_TRY_ERRNO(t.CopyOutObj(arg, v));
    return r;
  }

  template <typename T>
  ErrnoOr<int64_t> IoctlIn(Task& t, unsigned long cmd, uint64_t arg) {
    T v{};
    PAL_TRY_ERRNO(t.CopyInObj(arg, v));
    return HostIoctl(cmd, &v);
  }

  UniqueFd fd_;
  const Kind kind_;
  const bool tty_;
  const std::shared_ptr<std::atomic<int>> fg_pgrp_;  // ttys only
  const std::string name_;
  std::atomic<bool> nowait_unsupported_{false};
};

ErrnoOr<int64_t> HostStdioFile::Ioctl(Task& t, uint64_t cmd, uint64_t arg) {
  if (cmd == FIONREAD) return IoctlOut<int>(t, FIONREAD, arg);
  if (!tty_) return Errno(ENOTTY);
  switch (cmd) {
    case TCGETS:
      return IoctlOut<KernelTermios>(t, TCGETS, arg);
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
      return IoctlIn<KernelTermios>(t, cmd, arg);
    case TIOCGWINSZ:
      return IoctlOut<struct winsize>(t, TIOCGWINSZ, arg);
    case TIOCSWINSZ:
      return IoctlIn<struct winsize>(t, TIOCSWINSZ, arg);
    case TIOCOUTQ:
      return IoctlOut<int>(t, TIOCOUTQ, arg);
    case TCFLSH:
    case TCXONC:
    case TCSBRK:
    case TCSBRKP:
      // Integer arguments, passed by value.
      return HostIoctl(cmd, reinterpret_cast<void*>(static_cast<uintptr_t>(static_cast<int>(arg))));
    case TIOCGPGRP: {
      int32_t pg = fg_pgrp_->load();
      PAL_TRY_ERRNO(t.CopyOutObj(arg, pg));
      return int64_t{0};
    }
    case TIOCSPGRP: {
      int32_t pg;
      PAL_TRY_ERRNO(t.CopyInObj(arg, pg));
      if (pg < 0) return Errno(EINVAL);
      if (pg == 0) return Errno(ESRCH);  // no process group 0
      fg_pgrp_->store(pg);
      return int64_t{0};
    }
    case TIOCSCTTY:
      return int64_t{0};
    default:
      return Errno(ENOTTY);
  }
}

}  // namespace

FileRef NewHostStdioFile(int host_fd, int flags) {
  UniqueFd fd(fcntl(host_fd, F_DUPFD_CLOEXEC, 0));
  if (!fd.ok()) return nullptr;
  struct stat st;
  if (HostFstat(fd.get(), &st) != 0) return nullptr;
  Kind kind = Kind::kStream;
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) kind = Kind::kRegular;
  if (S_ISSOCK(st.st_mode)) kind = Kind::kSocket;
  KernelTermios kt;
  bool tty = S_ISCHR(st.st_mode) && ioctl(fd.get(), TCGETS, &kt) == 0;
  std::string name = HostName(host_fd, st);
  // O_CLOEXEC belongs to the fd table, and creation flags to open(2).
  flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
  return std::make_shared<HostStdioFile>(std::move(fd), flags, kind, tty, st.st_rdev, std::move(name));
}

}  // namespace palisade::dev
