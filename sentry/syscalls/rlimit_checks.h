// The resource limits other syscalls enforce (getrlimit(2)), in one place
// so every entry point applies them the same way Linux does:
//
//   RLIMIT_FSIZE   write/pwrite/writev/sendfile/copy_file_range stop at the
//                  limit (short count), and EFBIG + SIGXFSZ at or past it;
//                  truncate/ftruncate/fallocate growing past it too.
//   RLIMIT_AS      mmap/brk/mremap growing the address space past it: ENOMEM.
//   RLIMIT_MEMLOCK mlock/mlockall: EPERM with a zero limit, ENOMEM past it,
//                  unless CAP_IPC_LOCK.
//
//   PAL_TRY(uint64_t n, LimitFileWrite(t, f, pos, count));  // pos < 0: f's offset
#pragma once

#include <cstdint>

#include "base/errno.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file_description.h"

namespace palisade::sys {

// The soft limit of `resource` for t's process.
uint64_t RlimitCur(Task& t, int resource);

// How many of `count` bytes a write at `pos` (the file's offset, or its
// end with O_APPEND, when pos < 0) may move under RLIMIT_FSIZE; EFBIG with
// SIGXFSZ when none may. Only regular files are limited.
ErrnoOr<uint64_t> LimitFileWrite(Task& t, FileDescription& f, int64_t pos, uint64_t count);
// A file of `old_size` bytes grows to `new_size` (truncate, fallocate):
// EFBIG with SIGXFSZ past RLIMIT_FSIZE.
Errno CheckFileGrowth(Task& t, int64_t old_size, int64_t new_size);

// The address space grows by `grow` bytes (after `replaced` mapped bytes
// go away, as MAP_FIXED over an old mapping): ENOMEM past RLIMIT_AS.
Errno CheckAddressSpace(Task& t, uint64_t grow, uint64_t replaced = 0);

// mlock of `len` bytes / mlockall: EPERM when RLIMIT_MEMLOCK is 0, ENOMEM
// when `len` exceeds it (CAP_IPC_LOCK lifts both).
Errno CheckMemlock(Task& t, uint64_t len);

}  // namespace palisade::sys
