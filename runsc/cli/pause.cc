// `palisade pause <id>` / `resume <id>`: freeze and thaw every host
// process of the sandbox with the cgroup freezer, as runc does.
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"

namespace palisade::cli {
namespace {

absl::StatusOr<int> SetPaused(const std::vector<std::string>& args, bool pause,
                              const CommandContext& ctx) {
  PAL_RETURN_IF_ERROR(RequireExactArgs(pause ? "pause" : "resume", args, 1));
  PAL_ASSIGN_OR_RETURN(Container c, Container::Load(oci::AbsolutePath(ctx.global.root), args[0]));
  const std::string& status = c.state.status;
  if (pause && status != kStatusRunning && status != kStatusCreated) {
    return absl::FailedPreconditionError("container not running");
  }
  if (!pause && status != kStatusPaused) return absl::FailedPreconditionError("container not paused");
  PAL_RETURN_IF_ERROR(c.cgroup().Freeze(pause));
  c.state.status = pause ? kStatusPaused : kStatusRunning;
  PAL_RETURN_IF_ERROR(c.Save());
  return 0;
}

}  // namespace

CommandRunner SetupPause(CLI::App& sub) {
  auto args = std::make_shared<std::vector<std::string>>();
  sub.add_option("container-id", *args, "the container to pause");
  return [args](const CommandContext& ctx) { return SetPaused(*args, true, ctx); };
}

CommandRunner SetupResume(CLI::App& sub) {
  auto args = std::make_shared<std::vector<std::string>>();
  sub.add_option("container-id", *args, "the container to resume");
  return [args](const CommandContext& ctx) { return SetPaused(*args, false, ctx); };
}

}  // namespace palisade::cli
