// `palisade kill <id> [signal]`: sends a signal (default SIGTERM) to the
// container's init, or with --all to every process in it.
#include <signal.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/cli/signals.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"
#include "spdlog/spdlog.h"

namespace palisade::cli {
namespace {

struct KillFlags {
  std::vector<std::string> args;
  bool all = false;
};

absl::StatusOr<int> Kill(const KillFlags& f, const CommandContext& ctx) {
  if (f.args.empty()) return absl::InvalidArgumentError("\"kill\" requires a minimum of 1 argument(s)");
  if (f.args.size() > 2) return absl::InvalidArgumentError("\"kill\" requires a maximum of 2 argument(s)");
  PAL_ASSIGN_OR_RETURN(Container c, Container::Load(oci::AbsolutePath(ctx.global.root), f.args[0]));
  PAL_ASSIGN_OR_RETURN(int sig, ParseSignal(f.args.size() == 2 ? f.args[1] : "SIGTERM"));
  if (c.state.status == kStatusStopped) return absl::FailedPreconditionError("container not running");
  if (c.state.status == kStatusPaused) {
    // A frozen sentry cannot answer; SIGKILL still works by killing the
    // sandbox process (init of its PID namespace: everything goes).
    if (sig == SIGKILL) {
      (void)c.cgroup().Freeze(false);
      kill(c.state.pid, SIGKILL);
      return 0;
    }
    return absl::FailedPreconditionError("cannot signal a paused container: resume it first");
  }
  control::Request req;
  req.mutable_signal()->set_signo(sig);
  req.mutable_signal()->set_all(f.all);
  absl::StatusOr<control::Response> r = c.Call(req);
  if (!r.ok()) {
    if (sig == SIGKILL && c.SandboxAlive()) {
      spdlog::warn("sandbox did not answer ({}): killing its process", std::string(r.status().message()));
      kill(c.state.pid, SIGKILL);
      return 0;
    }
    if (absl::IsUnavailable(r.status())) return absl::FailedPreconditionError("container not running");
    return r.status();
  }
  return 0;
}

}  // namespace

CommandRunner SetupKill(CLI::App& sub) {
  auto f = std::make_shared<KillFlags>();
  sub.add_option("args", f->args, "the container id, then the signal (default SIGTERM)");
  sub.add_flag("-a,--all", f->all, "send the signal to every process in the container");
  return [f](const CommandContext& ctx) { return Kill(*f, ctx); };
}

}  // namespace palisade::cli
