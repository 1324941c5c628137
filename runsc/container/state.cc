#include "runsc/container/state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
  j["owner"] = state.owner;
  return j;
}

nlohmann::ordered_json StateToFileJson(const ContainerState& state) {
  nlohmann::ordered_json j = StateToJson(state);
  j["palisade"] = {{"startTime", state.start_time},
                   {"cgroup", state.cgroup},
                   {"platform", state.platform},
                   {"poststop", state.poststop}};
  return j;
}

absl::StatusOr<ContainerState> StateFromFileJson(const std::string& text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    ContainerState s;
    s.oci_version = j.value("ociVersion", "");
    s.id = j.value("id", "");
    s.status = j.value("status", "");
    s.pid = j.value("pid", 0);
    s.bundle = j.value("bundle", "");
    s.rootfs = j.value("rootfs", "");
    s.created = j.value("created", "");
    s.owner = j.value("owner", "");
    if (j.contains("annotations")) {
      s.annotations = j["annotations"].get<std::map<std::string, std::string>>();
    }
    if (j.contains("palisade")) {
      const nlohmann::json& p = j["palisade"];
      s.start_time = p.value("startTime", uint64_t{0});
      s.cgroup = p.value("cgroup", "");
      s.platform = p.value("platform", "");
      s.poststop = p.value("poststop", nlohmann::json());
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("corrupt container state: ", e.what()));
  }
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
      return absl::AlreadyExistsError("container with given ID already exists");
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

absl::StatusOr<StateDir> StateDir::Open(const std::string& root, const std::string& id) {
  std::string path = (std::filesystem::path(root) / id).lexically_normal().string();
  struct stat st;
  if (id.empty() || id.find('/') != std::string::npos || id == "." || id == ".." ||
      stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError("container does not exist");
  }
  return StateDir(std::move(path));
}

absl::StatusOr<ContainerState> StateDir::Read() const {
  int fd = open(state_file().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // A create still claiming the id has not written it yet.
    if (errno == ENOENT) return absl::NotFoundError("container does not exist");
    return ErrnoStatus(errno, "open", state_file());
  }
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  return StateFromFileJson(text);
}

absl::Status StateDir::Update(const ContainerState& state) {
  return WriteFileAtomic(state_file(), StateToFileJson(state).dump(), 0600);
}

absl::Status StateDir::Remove() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) return ErrnoStatus(ec.value(), "remove state directory", path_);
  return absl::OkStatus();
}

}  // namespace palisade
