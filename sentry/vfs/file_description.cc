#include "sentry/vfs/file_description.h"

#include <sys/inotify.h>

#include "sentry/vfs/fsnotify.h"

namespace palisade {

FileDescription::~FileDescription() {
  if (dentry_ && !(flags() & O_PATH)) vfs::NotifyPath(dentry_, writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
}

ErrnoOr<int64_t> FileDescription::Read(Task&, std::span<uint8_t>) { return Errno(EINVAL); }
ErrnoOr<int64_t> FileDescription::Write(Task&, std::span<const uint8_t>) { return Errno(EINVAL); }
ErrnoOr<int64_t> FileDescription::PRead(Task&, std::span<uint8_t>, int64_t) { return Errno(ESPIPE); }
ErrnoOr<int64_t> FileDescription::PWrite(Task&, std::span<const uint8_t>, int64_t) { return Errno(ESPIPE); }
ErrnoOr<int64_t> FileDescription::Seek(Task&, int64_t, int) { return Errno(ESPIPE); }
ErrnoOr<struct stat> FileDescription::Stat(Task&) { return Errno(EINVAL); }
Errno FileDescription::Truncate(Task&, int64_t) { return Errno(EINVAL); }
ErrnoOr<std::vector<DirEntry>> FileDescription::ReadDir(Task&, size_t) { return Errno(ENOTDIR); }
ErrnoOr<int64_t> FileDescription::Ioctl(Task&, uint64_t, uint64_t) { return Errno(ENOTTY); }
uint32_t FileDescription::Readiness(uint32_t mask) { return mask & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM); }
std::string FileDescription::DisplayName() const { return "anon_inode:[unknown]"; }

void FileDescription::set_status_flags(int f) {
  constexpr int kSettable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
  int cur = flags_.load();
  flags_.store((cur & ~kSettable) | (f & kSettable));
}

}  // namespace palisade
