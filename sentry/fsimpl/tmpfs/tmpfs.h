// tmpfs: an in-memory filesystem (Linux's shmem). Regular files keep their
// bytes in 4 KiB pages allocated on first write (holes cost nothing and
// read as zeros; SEEK_DATA/SEEK_HOLE see them), directories keep entries
// with stable cursors so getdents never repeats or skips an entry across
// calls, and timestamps, link counts, directory sizes and statfs numbers
// follow Linux's tmpfs.
//
// FIFOs open as fifo(7) says, through the pipe filesystem (FifoState).
// Sockets and device nodes can be created (mknod) and stat'ed, but opening
// them returns ENXIO: Linux answers that for sockets, and for a device
// number without a driver; the sandbox's devices live in /dev (devfs).
//
//   InodeRef root = tmpfs::NewTmpfsRoot(01777, 0, 0);
//   PAL_TRY(auto m, mounts.AddMount(at, root, "tmpfs", "tmpfs", 0));
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "sentry/vfs/inode.h"

namespace palisade::tmpfs {

// A new tmpfs instance; returns its root directory with permission bits
// `mode` (07777) owned by uid:gid. Each call is a new filesystem (own
// FsId, st_dev and inode numbers).
InodeRef NewTmpfsRoot(uint32_t mode, uid_t uid, gid_t gid);

}  // namespace palisade::tmpfs
