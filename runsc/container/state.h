// Container state on disk: <root>/<id>/state.json, holding what runc's
// `state` command prints (ociVersion, id, status, pid, bundle, rootfs,
// created, annotations). The directory's existence is the claim on the id:
// StateDir::Create fails with runc's "container with given ID already exists" when
// another container holds it.
//
//   PAL_ASSIGN_OR_RETURN(StateDir dir, StateDir::Create(root, state));
//   ... run ...
//   dir.Remove();
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace palisade {

// runtime-spec status values.
inline constexpr char kStatusCreating[] = "creating";
inline constexpr char kStatusCreated[] = "created";
inline constexpr char kStatusRunning[] = "running";
inline constexpr char kStatusStopped[] = "stopped";
inline constexpr char kStatusPaused[] = "paused";

struct ContainerState {
  std::string oci_version;
  std::string id;
  std::string status;
  pid_t pid = 0;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC
  std::map<std::string, std::string> annotations;
  std::string owner;  // runc leaves it empty in `state`

  // Front-end bookkeeping, kept in state.json under "palisade" and never
  // printed by `state`.
  uint64_t start_time = 0;  // of the sandbox process (/proc/<pid>/stat field 22): guards pid reuse
  std::string cgroup;       // the sandbox's cgroup path (relative to the hierarchy root)
  std::string platform;
  nlohmann::json poststop;  // the config's poststop hooks, run by `delete`
};

// What `state` prints (runc's shape).
nlohmann::ordered_json StateToJson(const ContainerState& state);
// What state.json holds: the above plus the bookkeeping.
nlohmann::ordered_json StateToFileJson(const ContainerState& state);
absl::StatusOr<ContainerState> StateFromFileJson(const std::string& text);

// The current time as RFC 3339 in UTC with up to nanoseconds, for `created`.
std::string NowRfc3339();

class StateDir {
 public:
  // Creates --root (0700, with parents) if needed, then <root>/<id> (0711)
  // and writes state.json. REQUIRES: state.id passed ValidateContainerId.
  static absl::StatusOr<StateDir> Create(const std::string& root, const ContainerState& state);
  // An existing container's directory; NotFound ("container does not
  // exist", runc's wording) when there is none.
  static absl::StatusOr<StateDir> Open(const std::string& root, const std::string& id);

  absl::StatusOr<ContainerState> Read() const;

  StateDir(StateDir&&) = default;
  StateDir& operator=(StateDir&&) = default;

  // Atomically rewrites state.json.
  absl::Status Update(const ContainerState& state);
  // Deletes the directory and its contents.
  absl::Status Remove();

  const std::string& path() const { return path_; }
  std::string state_file() const { return path_ + "/state.json"; }
  std::string control_socket() const { return path_ + "/control.sock"; }

 private:
  explicit StateDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace palisade
