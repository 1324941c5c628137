// Helpers shared by the file syscall handlers (sys_read_write.cc,
// sys_open.cc, sys_stat.cc, sys_dir.cc): fd lookup with the access a call
// needs, path copy-in, and the struct conversions the stat family shares.
#pragma once

#include <string>

#include "base/errno.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file_description.h"

namespace palisade::sys {

// MAX_RW_COUNT: the most one read/write moves (INT_MAX rounded down to a page).
inline constexpr int64_t kMaxRwCount = 0x7ffff000;

enum class FileNeed {
  kAny,      // O_PATH descriptors too (fstat, fchdir, F_GETFD ...)
  kNotPath,  // a real open file (EBADF for O_PATH)
  kRead,     // open for reading (EBADF otherwise)
  kWrite,    // open for writing (EBADF otherwise)
};

// The file behind fd, or EBADF if there is none or it lacks `need`.
ErrnoOr<FileRef> GetFile(Task& t, int fd, FileNeed need);

// A pathname argument: EFAULT for a bad pointer, ENAMETOOLONG past PATH_MAX.
ErrnoOr<std::string> CopyInPath(Task& t, uint64_t addr);

// st_mode of an open file (EBADF-free: 0 if the file cannot say).
uint32_t FileMode(Task& t, FileDescription& f);

}  // namespace palisade::sys
