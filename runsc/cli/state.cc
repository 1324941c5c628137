// `palisade state <id>`: the OCI state JSON, indented as runc prints it.
#include <iostream>
#include <memory>

#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"

namespace palisade::cli {

CommandRunner SetupState(CLI::App& sub) {
  auto args = std::make_shared<std::vector<std::string>>();
  sub.add_option("container-id", *args, "the container");
  return [args](const CommandContext& ctx) -> absl::StatusOr<int> {
    PAL_RETURN_IF_ERROR(RequireExactArgs("state", *args, 1));
    PAL_ASSIGN_OR_RETURN(Container c, Container::Load(oci::AbsolutePath(ctx.global.root), (*args)[0]));
    std::cout << StateToJson(c.state).dump(2) << "\n";
    return 0;
  };
}

}  // namespace palisade::cli
