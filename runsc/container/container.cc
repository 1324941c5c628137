#include "runsc/container/container.h"

#include <signal.h>

#include <chrono>
#include <thread>

#include "base/status_macros.h"
#include "runsc/container/hooks.h"
#include "runsc/sandbox/spawn.h"
#include "sentry/control/client.h"
#include "spdlog/spdlog.h"

namespace palisade {

absl::StatusOr<Container> Container::Load(const std::string& root, const std::string& id) {
  PAL_ASSIGN_OR_RETURN(StateDir dir, StateDir::Open(root, id));
  Container c(std::move(dir));
  PAL_ASSIGN_OR_RETURN(c.state, c.dir_.Read());
  if (c.state.status != kStatusStopped && c.state.status != kStatusCreating && !c.SandboxAlive()) {
    c.state.status = kStatusStopped;
  }
  if (c.state.status == kStatusStopped) c.state.pid = 0;
  return c;
}

sandbox::Cgroup Container::cgroup() const { return sandbox::Cgroup::Open(state.cgroup); }

bool Container::SandboxAlive() const {
  return sandbox::SandboxAlive(state.pid, state.start_time);
}

absl::StatusOr<control::Response> Container::Call(const control::Request& req,
                                                  std::span<const int> fds,
                                                  absl::Duration timeout) const {
  return control::Call(dir_.control_socket(), req, fds, timeout);
}

absl::Status Container::Destroy() {
  // The sandbox process is init of its own PID namespace: killing it takes
  // every stub with it. The cgroup catches anything else.
  ContainerState saved;
  absl::StatusOr<ContainerState> on_disk = dir_.Read();
  if (on_disk.ok()) saved = *on_disk;
  if (saved.pid > 0 && sandbox::SandboxAlive(saved.pid, saved.start_time)) {
    if (!saved.cgroup.empty()) (void)cgroup().Freeze(false);
    kill(saved.pid, SIGKILL);
    for (int i = 0; i < 410 && sandbox::SandboxAlive(saved.pid, saved.start_time); i++) {
      std::this_thread::sleep_for(std::chrono::microseconds(i < 4 ? 1000 << i : 10000));
    }
  }
  if (!state.cgroup.empty()) {
    absl::Status s = cgroup().Destroy();
    if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  }
  // poststop failures are warnings (runtime-spec: delete goes on).
  ContainerState stopped = state;
  stopped.status = kStatusStopped;
  absl::Status hooks = RunHooks(HooksFromJson(state.poststop), stopped, "poststop");
  if (!hooks.ok()) spdlog::warn("{}", std::string(hooks.message()));
  return dir_.Remove();
}

}  // namespace palisade
