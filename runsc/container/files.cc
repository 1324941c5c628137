#include "runsc/container/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"

namespace palisade {

absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, mode_t mode) {
  std::filesystem::path target(path);
  const std::string tmp =
      (target.parent_path() / absl::StrCat(".", target.filename().string(), ".tmp")).string();
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.ok()) return ErrnoStatus(errno, "create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      unlink(tmp.c_str());
      return ErrnoStatus(err, "write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "fsync", tmp);
  }
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "rename to", path);
  }
  return absl::OkStatus();
}

absl::Status WritePidFile(const std::string& path, pid_t pid) {
  std::filesystem::path p(path);
  if (p.is_relative()) {
    std::error_code ec;
    p = std::filesystem::current_path(ec) / p;
  }
  return WriteFileAtomic(p.lexically_normal().string(), std::to_string(pid), 0666);
}

}  // namespace palisade
