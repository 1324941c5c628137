// `palisade create <id>`: builds the sandbox and leaves it at the start
// barrier (status "created"); the sandbox process's pid goes to --pid-file.
#include <memory>

#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/cli/lifecycle.h"

namespace palisade::cli {

CommandRunner SetupCreate(CLI::App& sub) {
  auto f = std::make_shared<CreateFlags>();
  AddCreateFlags(sub, *f);
  return [f](const CommandContext& ctx) -> absl::StatusOr<int> {
    PAL_ASSIGN_OR_RETURN(Container c, CreateContainer(*f, ctx, {.foreground = false}));
    return 0;
  };
}

}  // namespace palisade::cli
