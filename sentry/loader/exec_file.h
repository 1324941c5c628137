// Opening a file for execution (Linux's do_open_execat()): resolution with
// the task's root, cwd and credentials, then the checks execve(2) makes
// before any binary format looks at the bytes, plus reads of the file's
// leading bytes and its ELF program headers.
//
//   PAL_TRY(ExecFile f, OpenExec(t, AT_FDCWD, "/bin/sh", 0));
//   if (IsShebang(f.head)) ...
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/errno.h"
#include "sentry/loader/elf.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/file_description.h"

namespace palisade {
class Task;
}

namespace palisade::loader {

struct ExecFile {
  FileRef file;      // opened O_RDONLY
  VirtualPath path;  // where it was found
  int64_t size = 0;
  std::vector<uint8_t> head;  // the first min(size, kBinprmBufSize) bytes
};

// Resolves path against dirfd (AT_FDCWD: the cwd) and opens it for exec.
// at_flags: AT_SYMLINK_NOFOLLOW (a final symlink is ELOOP), AT_EMPTY_PATH
// ("" names dirfd itself). Errors as execve(2): resolution errors pass
// through (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES for search
// permission); EACCES if the file is not regular, lacks exec permission
// for the task, or sits on a noexec mount. Read permission is not needed.
ErrnoOr<ExecFile> OpenExec(Task& t, int dirfd, std::string_view path, int at_flags);

// Fills dst from the file at off. A short read means the file is shorter
// than its headers claim: ENOEXEC, as for any truncated image.
Errno ReadExact(Task& t, FileDescription& f, std::span<uint8_t> dst, int64_t off);

// Reads and validates the ELF headers of f (and its PT_INTERP path):
// ENOEXEC for anything ParseElfHeader/ParseProgramHeaders reject.
ErrnoOr<ElfInfo> ReadElfInfo(Task& t, const ExecFile& f);

}  // namespace palisade::loader
