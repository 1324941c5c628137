// `palisade delete [--force] <id>`: removes a stopped (or created)
// container: processes, cgroup, state; --force kills a running one first.
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"

namespace palisade::cli {
namespace {

struct DeleteFlags {
  std::vector<std::string> args;
  bool force = false;
};

}  // namespace

CommandRunner SetupDelete(CLI::App& sub) {
  auto f = std::make_shared<DeleteFlags>();
  sub.add_option("container-id", f->args, "the container to delete");
  sub.add_flag("-f,--force", f->force, "kill the container first if it is running or paused");
  return [f](const CommandContext& ctx) -> absl::StatusOr<int> {
    PAL_RETURN_IF_ERROR(RequireExactArgs("delete", f->args, 1));
    absl::StatusOr<Container> c = Container::Load(oci::AbsolutePath(ctx.global.root), f->args[0]);
    if (!c.ok()) {
      // runc: `delete --force` of a missing container succeeds silently.
      if (f->force && absl::IsNotFound(c.status())) return 0;
      return c.status();
    }
    const std::string& status = c->state.status;
    if (!f->force && status != kStatusStopped && status != kStatusCreated) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot delete container ", c->state.id, " that is not stopped: ", status));
    }
    PAL_RETURN_IF_ERROR(c->Destroy());
    return 0;
  };
}

}  // namespace palisade::cli
