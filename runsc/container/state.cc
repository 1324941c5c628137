#include "runsc/container/state.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "runsc/container/files.h"

namespace palisade {

nlohmann::ordered_json StateToJson(const ContainerState& state) {
  nlohmann::ordered_json j = {
      {"ociVersion", state.oci_version},
      {"id", state.id},
      {"status", state.status},
      {"pid", state.pid},
      {"bundle", state.bundle},
      {"rootfs", state.rootfs},
      {"created", state.created},
  };
  if (!state.annotations.empty()) j["annotations"] = state.annotations;
  return j;
}

std::string NowRfc3339() {
  // Go's RFC3339Nano in UTC, as runc writes it: "2024-05-01T12:00:00.5Z".
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::Now(), absl::UTCTimeZone());
}

absl::StatusOr<StateDir> StateDir::Create(const std::string& root, const ContainerState& state) {
  std::error_code ec;
  const bool created_root = std::filesystem::create_directories(root, ec);
  if (ec) return ErrnoStatus(ec.value(), "create state root", root);
  // runc keeps a --root it creates private (0700); an existing one is left alone.
  if (created_root && chmod(root.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, "chmod state root", root);
  }
  std::string path = (std::filesystem::path(root) / state.id).lexically_normal().string();
  if (mkdir(path.c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat("container with id exists: ", state.id));
    }
    return ErrnoStatus(errno, "create state directory", path);
  }
  StateDir dir(std::move(path));
  absl::Status s = dir.Update(state);
  if (!s.ok()) {
    dir.Remove().IgnoreError();
    return s;
  }
  return dir;
}

absl::Status StateDir::Update(const ContainerState& state) {
  return WriteFileAtomic(state_file(), StateToJson(state).dump(), 0600);
}

absl::Status StateDir::Remove() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) return ErrnoStatus(ec.value(), "remove state directory", path_);
  return absl::OkStatus();
}

}  // namespace palisade
