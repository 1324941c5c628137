// A container as the lifecycle commands see it: its state directory and
// state.json, with the status refreshed from the host (a sandbox process
// that died, or was replaced by another with its pid, makes the
// container "stopped").
//
//   PAL_ASSIGN_OR_RETURN(Container c, Container::Load(root, id));
//   if (c.state.status == kStatusStopped) ...
//   PAL_RETURN_IF_ERROR(c.Destroy());
#pragma once

#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runsc/container/state.h"
#include "runsc/sandbox/cgroup.h"
#include "sentry/control/control.pb.h"

namespace palisade {

class Container {
 public:
  static absl::StatusOr<Container> Load(const std::string& root, const std::string& id);

  ContainerState state;

  absl::Status Save() { return dir_.Update(state); }
  const StateDir& dir() const { return dir_; }
  sandbox::Cgroup cgroup() const;
  bool SandboxAlive() const;

  // One request on the control socket.
  absl::StatusOr<control::Response> Call(const control::Request& req, std::span<const int> fds = {},
                                         absl::Duration timeout = absl::Seconds(30)) const;

  // Kills every process of the sandbox, removes its cgroup, runs the
  // poststop hooks and removes the state directory (`delete`).
  absl::Status Destroy();

 private:
  explicit Container(StateDir dir) : dir_(std::move(dir)) {}
  StateDir dir_;
};

}  // namespace palisade
