// `palisade start <id>`: runs the created container's process.
#include <memory>

#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/cli/lifecycle.h"
#include "runsc/oci/bundle.h"

namespace palisade::cli {

CommandRunner SetupStart(CLI::App& sub) {
  auto args = std::make_shared<std::vector<std::string>>();
  sub.add_option("container-id", *args, "the container to start");
  return [args](const CommandContext& ctx) -> absl::StatusOr<int> {
    PAL_RETURN_IF_ERROR(RequireExactArgs("start", *args, 1));
    PAL_ASSIGN_OR_RETURN(Container c, Container::Load(oci::AbsolutePath(ctx.global.root), (*args)[0]));
    PAL_RETURN_IF_ERROR(StartContainer(c));
    return 0;
  };
}

}  // namespace palisade::cli
