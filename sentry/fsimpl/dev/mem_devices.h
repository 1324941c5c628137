// The memory character devices of major 1 (Linux's drivers/char/mem.c and
// random.c), as open files:
//   null    (1:3)  reads EOF, swallows writes;
//   zero    (1:5)  reads zeros, swallows writes, mmap gives zero pages;
//   full    (1:7)  reads zeros, every write fails with ENOSPC;
//   random  (1:8)  reads the host's getrandom(2) bytes; writes accepted
//   urandom (1:9)  (and ignored: the host pool is not ours to feed).
// None blocks, so they are always ready for poll. pread/pwrite behave as
// read/write (the offset means nothing), and lseek always gives 0, as
// Linux's null_lseek/noop_llseek do.
//
//   PAL_TRY(FileRef f, OpenMemDevice(MemDevice::kZero, inode, O_RDONLY));
#pragma once

#include <cstdint>

#include "sentry/vfs/inode.h"

namespace palisade::dev {

enum class MemDevice : uint32_t {
  kNull = 3,  // values are the minor numbers
  kZero = 5,
  kFull = 7,
  kRandom = 8,
  kURandom = 9,
};

// An open file of device `which` for `inode` (whose attributes fstat
// shows). flags: the open(2) flags.
ErrnoOr<FileRef> OpenMemDevice(MemDevice which, InodeRef inode, int flags);

}  // namespace palisade::dev
