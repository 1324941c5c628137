#include "sentry/syscalls/sys_file_util.h"

#include "sentry/vfs/vfs.h"

namespace palisade::sys {

ErrnoOr<FileRef> GetFile(Task& t, int fd, FileNeed need) {
  FileRef f = t.fds().Get(fd);
  if (!f) return Errno(EBADF);
  if (need == FileNeed::kAny) return f;
  if (f->flags() & O_PATH) return Errno(EBADF);
  if (need == FileNeed::kRead && !f->readable()) return Errno(EBADF);
  if (need == FileNeed::kWrite && !f->writable()) return Errno(EBADF);
  return f;
}

ErrnoOr<std::string> CopyInPath(Task& t, uint64_t addr) {
  PAL_TRY(std::string s, t.CopyInString(addr, vfs::kPathMax));
  if (s.size() >= vfs::kPathMax) return Errno(ENAMETOOLONG);
  return s;
}

uint32_t FileMode(Task& t, FileDescription& f) {
  auto st = f.Stat(t);
  return st.ok() ? st->st_mode : 0;
}

}  // namespace palisade::sys
