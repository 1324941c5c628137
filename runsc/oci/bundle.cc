#include "runsc/oci/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "runsc/oci/spec_parse.h"

namespace palisade::oci {

std::string AbsolutePath(absl::string_view path) {
  std::filesystem::path p(path.empty() ? "." : std::string(path));
  if (p.is_relative()) {
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (!ec) p = cwd / p;
  }
  std::string out = p.lexically_normal().string();
  // lexically_normal keeps a trailing separator ("/b/" stays "/b/").
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return ErrnoStatus(errno, "open", path);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

absl::StatusOr<Bundle> LoadBundle(absl::string_view dir_arg) {
  Bundle bundle;
  bundle.dir = AbsolutePath(dir_arg);
  struct stat st;
  if (stat(bundle.dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("bundle \"", bundle.dir, "\" does not exist"));
    }
    return ErrnoStatus(errno, "stat bundle", bundle.dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle \"", bundle.dir, "\" is not a directory"));
  }

  const std::string config_path = bundle.dir + "/config.json";
  absl::StatusOr<std::string> text = ReadFileToString(config_path);
  if (!text.ok()) {
    if (access(config_path.c_str(), F_OK) != 0 && errno == ENOENT) {
      // runc's wording, which scripts grep for.
      return absl::NotFoundError(absl::StrCat("JSON specification file config.json not found in \"",
                                              bundle.dir, "\""));
    }
    return text.status();
  }
  PAL_ASSIGN_OR_RETURN(bundle.spec, ParseSpec(*text, "config.json"));

  std::filesystem::path root(bundle.spec.root.path);
  if (root.is_relative()) root = std::filesystem::path(bundle.dir) / root;
  std::string rootfs = root.lexically_normal().string();
  while (rootfs.size() > 1 && rootfs.back() == '/') rootfs.pop_back();
  if (stat(rootfs.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("rootfs \"", rootfs, "\" does not exist"));
    }
    return ErrnoStatus(errno, "stat rootfs", rootfs);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("rootfs \"", rootfs, "\" is not a directory"));
  }
  char resolved[PATH_MAX];
  if (realpath(rootfs.c_str(), resolved) == nullptr) {
    return ErrnoStatus(errno, "resolve rootfs", rootfs);
  }
  bundle.rootfs = resolved;
  return bundle;
}

}  // namespace palisade::oci
