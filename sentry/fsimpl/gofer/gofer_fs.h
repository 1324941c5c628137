// The gofer client filesystem: the container's rootfs and bind mounts as
// served by the gofer process (gofer/server/). Every inode holds a fid;
// lookups, attributes and namespace changes are gofer RPCs, while reads
// and writes of regular files go straight to the host fd the gofer
// donated at open (no round trip per I/O).
//
// Caching: one GoferInode per host file while anyone holds it (hard links
// included). On a read-only filesystem (the overlay's lower layer, ro bind
// mounts) nothing can change it from the sandbox, so attributes from the
// walk are cached; a writable one asks the gofer each time. On the rootfs,
// read-only lookups (positive and ENOENT) are cached too (NameCache).
//
// FIFOs in the tree are sandbox pipes (never host pipes); host device
// nodes are never opened (EACCES), sockets give ENXIO.
//
//   PAL_ASSIGN_OR_RETURN(InodeRef root, gofer::NewGoferRoot(client, "/", /*readonly=*/true));
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sentry/fsimpl/gofer/client.h"
#include "sentry/vfs/inode.h"

namespace palisade::gofer {

// Whether name lookups are cached (dentry_cache.h). Only for a tree the
// container owns, i.e. its rootfs: a bind mount may be changed from the
// host while the container runs (a ConfigMap volume is swapped by a
// rename), so its lookups always ask the gofer.
enum class NameCache { kOff, kOn };

// The root of export `path` ("/" for the rootfs, else a bind mount's
// destination). readonly: every change fails with EROFS. names: kOn
// takes effect on a read-only tree only.
absl::StatusOr<InodeRef> NewGoferRoot(std::shared_ptr<Client> client, const std::string& path,
                                      bool readonly, NameCache names = NameCache::kOff);

}  // namespace palisade::gofer
