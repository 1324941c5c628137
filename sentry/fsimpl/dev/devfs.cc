#include "sentry/fsimpl/dev/devfs.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <memory>

#include "base/unique_fd.h"
#include "sentry/fsimpl/dev/devfs_nodes.h"
#include "sentry/fsimpl/dev/mem_devices.h"
#include "sentry/vfs/vfs.h"

namespace palisade::dev {
namespace {

struct CharDevRow {
  const char* name;
  MemDevice which;
};

// Linux's mem.c minors; all world read/write, as in every container.
constexpr CharDevRow kMemDevices[] = {
    {"null", MemDevice::kNull},     {"zero", MemDevice::kZero},       {"full", MemDevice::kFull},
    {"random", MemDevice::kRandom}, {"urandom", MemDevice::kURandom},
};

struct SymlinkRow {
  const char* name;
  const char* target;
};

// What runc creates (libcontainer's default symlinks, minus ptmx/core).
constexpr SymlinkRow kSymlinks[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

// The terminal /dev/tty opens, shared by every devfs node that needs it.
// Closes the dup when the filesystem goes.
struct TtyState {
  UniqueFd fd;
};

UniqueFd FindTty(int host_fd) {
  if (host_fd == -1) return UniqueFd();
  if (host_fd >= 0) return UniqueFd(fcntl(host_fd, F_DUPFD_CLOEXEC, 0));
  for (int fd = 0; fd < 3; fd++) {
    struct termios tio;
    if (tcgetattr(fd, &tio) == 0) return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  }
  return UniqueFd();
}

InodeAttr Attr(uint64_t ino, uint32_t mode, uint64_t rdev, const struct timespec& now) {
  InodeAttr a;
  a.ino = ino;
  a.mode = mode;
  a.nlink = 1;
  a.rdev = rdev;
  a.atime = a.mtime = a.ctime = a.btime = now;
  return a;
}

}  // namespace

InodeRef NewDevfsRoot(const DevfsOptions& opts) {
  DevfsIds ids;
  ids.fsid = opts.fsid ? opts.fsid : vfs::AllocateFsId();
  ids.dev = opts.dev ? opts.dev : makedev(0, ids.fsid & 0xfffff);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t ino = 1;

  auto root = std::make_shared<DevfsDir>(ids, Attr(ino++, S_IFDIR | 0755, 0, now), opts.upper);
  for (const CharDevRow& row : kMemDevices) {
    MemDevice which = row.which;
    auto opener = [which](const InodeRef& self, const OpenRequest& req) {
      return OpenMemDevice(which, self, req.flags & ~O_NOCTTY);
    };
    uint64_t rdev = makedev(1, static_cast<uint32_t>(which));
    root->AddEntry(row.name, std::make_shared<DevfsCharDev>(ids, Attr(ino++, S_IFCHR | 0666, rdev, now), opener));
  }

  auto tty = std::make_shared<TtyState>();
  tty->fd = FindTty(opts.tty_host_fd);
  auto tty_opener = [tty, ctty_opener = opts.ctty_opener](const InodeRef& self,
                                                           const OpenRequest& req) -> ErrnoOr<FileRef> {
    // The opener's controlling terminal, when it has one of the sandbox's
    // ptys (Linux's tty_open of 5:0); TIOCSPGRP on it must reach that pty.
    if (ctty_opener) {
      if (ErrnoOr<FileRef> f = ctty_opener(req); !f.ok() || *f) return f;
    }
    // Otherwise the host terminal the container was given as stdio, if
    // any; none: ENXIO, as Linux's tty_open.
    if (!tty->fd.ok()) return Errno(ENXIO);
    FileRef f = NewHostStdioFile(tty->fd.get(), req.flags & ~O_NOCTTY);
    if (!f) return Errno(ENFILE);  // the sentry is out of host fds
    return f;
  };
  root->AddEntry("tty", std::make_shared<DevfsCharDev>(ids, Attr(ino++, S_IFCHR | 0666, makedev(5, 0), now),
                                                       tty_opener));

  for (const SymlinkRow& row : kSymlinks) {
    root->AddEntry(row.name, std::make_shared<DevfsSymlink>(ids, Attr(ino++, S_IFLNK | 0777, 0, now), row.target));
  }

  if (opts.pts) {
    // The sandbox's devpts; /dev/ptmx points into it, as runc sets up
    // containers (sentry/fsimpl/devpts/devpts.h).
    root->AddEntry("pts", opts.pts);
    root->AddEntry("ptmx", std::make_shared<DevfsSymlink>(ids, Attr(ino++, S_IFLNK | 0777, 0, now), "pts/ptmx"));
  } else {
    root->AddEntry("pts", std::make_shared<DevfsDir>(ids, Attr(ino++, S_IFDIR | 0755, 0, now)));
  }
  root->AddEntry("mqueue", std::make_shared<DevfsDir>(ids, Attr(ino++, S_IFDIR | 01777, 0, now)));
  InodeRef shm = opts.shm ? opts.shm : std::make_shared<DevfsDir>(ids, Attr(ino++, S_IFDIR | 01777, 0, now));
  root->AddEntry("shm", shm);
  return root;
}

}  // namespace palisade::dev
