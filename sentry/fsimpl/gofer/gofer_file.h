// Open regular files of the gofer client filesystem: reads and writes are
// pread/pwrite on the host fd the gofer donated, at the sentry's own offset
// (the host fd's offset is never used), with no gofer round trip.
#pragma once

#include <memory>

#include "base/unique_fd.h"
#include "sentry/fsimpl/gofer/gofer_inode.h"

namespace palisade::gofer {

FileRef NewGoferRegularFile(std::shared_ptr<GoferInode> inode, UniqueFd fd, int flags);

}  // namespace palisade::gofer
