// TEMPORARY rootfs backend, until the gofer (issue #4) serves the rootfs
// from its own confined process. It serves a host directory tree (the
// bundle's rootfs, or a bind-mount source) straight from the sentry.
//
// Confinement: every Inode holds an O_PATH|O_NOFOLLOW fd of its host file,
// and a lookup opens exactly one component (never "", "." or "..", never
// containing '/') relative to its directory's fd with O_NOFOLLOW. Symlinks
// are returned as symlinks and never followed on the host: the sentry VFS
// follows them in sandbox terms (an absolute body restarts at the
// sandbox's root, ".." stops there), so no path can leave the tree. The
// root of the tree has no parent here; ".." above it is the VFS's job.
//
// Files are reopened for I/O relative to the parent directory's fd and the
// name they were last seen under (each lookup and rename refreshes it),
// then checked against the inode's (st_dev, st_ino): ESTALE on mismatch.
// Attributes are the host's, st_dev/st_ino included. A FIFO in the tree is
// a sandbox pipe (FifoState), never a host pipe; host device nodes are
// never opened (EACCES), sockets give ENXIO.
//
//   PAL_TRY_OR(InodeRef root, host::NewHostRoot("/bundle/rootfs", /*readonly=*/false));
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "sentry/vfs/inode.h"

namespace palisade::host {

// The directory at host_path (absolute) as a filesystem root. readonly:
// every change fails with EROFS (in addition to the mount's own flag).
absl::StatusOr<InodeRef> NewHostRoot(const std::string& host_path, bool readonly);

}  // namespace palisade::host
