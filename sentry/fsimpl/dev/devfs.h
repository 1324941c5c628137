// devfs: the sandbox's /dev, a fixed table of nodes as runc would create
// them in a container (root-owned, Linux's modes and device numbers):
//
//   null 1:3, zero 1:5, full 1:7, random 1:8, urandom 1:9   crw-rw-rw-
//   tty 5:0 (the sandbox's terminal, or ENXIO without one)  crw-rw-rw-
//   fd -> /proc/self/fd, stdin/stdout/stderr -> /proc/self/fd/0..2
//   pts/ (DevfsOptions::pts if given, the sandbox's devpts, with a symlink
//         ptmx -> pts/ptmx beside it; else an empty mountpoint and no ptmx)
//   mqueue/ (a mountpoint)
//   shm/ (drwxrwxrwt: DevfsOptions::shm if given, else an empty directory
//         on which the boot code mounts a tmpfs, as OCI's default spec does)
//
// /dev/console is absent. Names outside the table live in
// DevfsOptions::upper when given (pass a tmpfs root to make /dev writable,
// as a container's tmpfs /dev is: mkdir, mknod, bind(2) of /dev/log ...);
// without it the table is all there is and creating fails with EPERM.
//
//   InodeRef dev = dev::NewDevfsRoot({.upper = tmpfs::NewTmpfsRoot(0755, 0, 0)});
//   ns->AddMount(at, dev, "devtmpfs", "devtmpfs", 0);
#pragma once

#include <cstdint>
#include <functional>

#include "sentry/fsimpl/dev/host_stdio.h"
#include "sentry/vfs/inode.h"

namespace palisade::dev {

// tty_host_fd: find the terminal among the sentry's fds 0, 1, 2 (the
// container's stdio), the first one that is a tty.
inline constexpr int kFindTtyInStdio = -2;

struct DevfsOptions {
  uint64_t fsid = 0;       // Inode::FsId; 0 = vfs::AllocateFsId()
  uint64_t dev = 0;        // st_dev; 0 = makedev(0, fsid)
  // The sandbox's terminal for /dev/tty: a host fd (dup'd here; the
  // caller keeps its own), kFindTtyInStdio, or -1 for none (ENXIO).
  int tty_host_fd = kFindTtyInStdio;
  InodeRef shm{};          // directory to serve as /dev/shm, or null
  InodeRef pts{};          // devpts root to serve as /dev/pts (devpts::Root()), or null
  InodeRef upper{};        // writable directory for other names, or null
  // Opens the caller's controlling terminal for /dev/tty when it is one of
  // the sandbox's ptys; returns null when it has none (then tty_host_fd
  // applies). Set by the boot code, which knows devpts and the kernel.
  std::function<ErrnoOr<FileRef>(const OpenRequest&)> ctty_opener{};
};

InodeRef NewDevfsRoot(const DevfsOptions& opts = {});

}  // namespace palisade::dev
