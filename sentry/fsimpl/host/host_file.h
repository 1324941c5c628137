// Open files of the temporary host backend (see host_fs.h): a regular
// file does pread/pwrite on its own host fd at the sentry's offset (the
// host fd's offset is never used), and a directory lists with getdents64
// on a host directory fd, whose opaque d_off values are the positions.
#pragma once

#include <memory>

#include "base/unique_fd.h"
#include "sentry/fsimpl/host/host_inode.h"

namespace palisade::host {

FileRef NewHostRegularFile(std::shared_ptr<HostInode> inode, UniqueFd fd, int flags);
FileRef NewHostDirFile(std::shared_ptr<HostInode> inode, UniqueFd fd, int flags);

// Up to max entries ("." and ".." included, as the host returns them) from
// the directory fd's current position; the fd is left just after the last
// entry returned. DirEntry::off is the host's d_off.
ErrnoOr<std::vector<DirEntry>> ReadHostDirents(int fd, size_t max);

}  // namespace palisade::host
