// The root overlay: the container's "/" as a read-only lower layer (the
// rootfs served by the gofer) under a writable upper layer kept in sentry
// memory (a tmpfs), so a container never changes the host's copy of its
// image (`--overlay=none` skips this and writes through the gofer).
//
// As Linux's overlayfs: lookups look in the upper layer first, then in the
// lower one unless a whiteout (a 0/0 character device in the upper layer)
// hides the name or the upper directory is opaque; directory listings
// merge both layers; the first change to a lower file, directory or link
// copies it up (data, mode, owner, times) into the upper layer, parents
// first. Renaming a directory that exists in the lower layer fails with
// EXDEV (as overlayfs without redirect_dir; mv then copies).
//
// Identity: a file that exists in the lower layer keeps the lower's
// (st_dev, st_ino) across copy-up; files created in the container have
// the upper layer's.
//
//   InodeRef root = overlay::NewOverlayRoot(gofer_root);
#pragma once

#include "sentry/vfs/inode.h"

namespace palisade::overlay {

// An overlay whose lower layer is the directory `lower` (never written) and
// whose upper layer is a new, empty tmpfs.
InodeRef NewOverlayRoot(InodeRef lower);

}  // namespace palisade::overlay
