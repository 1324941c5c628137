// Open regular files of the gofer client filesystem: reads and writes are
// pread/pwrite on the host fd the gofer donated, at the sentry's own offset
// (the host fd's offset is never used), with no gofer round trip.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/unique_fd.h"
#include "sentry/fsimpl/gofer/gofer_inode.h"

namespace palisade::gofer {

// fd: the host fd the gofer donated, possibly shared by several opens of
// the file (the read-only fd cache, gofer_inode.h): it is only used with
// pread/pwrite and never closed here while another holds it.
// pread(2) of a host fd, retried on EINTR; short at end of file.
ErrnoOr<int64_t> HostPread(int fd, std::span<uint8_t> dst, int64_t off);

FileRef NewGoferRegularFile(std::shared_ptr<GoferInode> inode, std::shared_ptr<UniqueFd> fd, int flags);

}  // namespace palisade::gofer
