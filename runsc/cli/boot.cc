// `palisade boot` (hidden): the sandbox's host process, started by
// create/run through a re-exec of /proc/self/exe (runsc/sandbox/spawn.cc).
#include <memory>

#include "runsc/cli/commands.h"

namespace palisade::cli {

CommandRunner SetupBoot(CLI::App& sub) {
  auto fds = std::make_shared<BootFds>();
  sub.add_option("--config-fd", fds->config, "memfd with the BootConfig JSON")->required();
  sub.add_option("--control-fd", fds->control, "listening control socket")->required();
  sub.add_option("--ready-fd", fds->ready, "pipe to report readiness on")->required();
  return [fds](const CommandContext& ctx) -> absl::StatusOr<int> {
    if (!ctx.deps.boot) return absl::InternalError("no sandbox is linked in");
    return ctx.deps.boot(*fds);
  };
}

}  // namespace palisade::cli
