// `palisade gofer` (hidden): the file server of one sandbox. The front end
// starts the small palisade-gofer binary (gofer/cmd/) instead when it is
// installed next to palisade (runsc/sandbox/gofer_launch.h); both take the
// same flags, parsed by gofer/server/gofer_flags.h, and do what
// gofer_main.h says.
#include <memory>

#include "gofer/server/gofer_flags.h"
#include "runsc/cli/commands.h"

namespace palisade::cli {

CommandRunner SetupGofer(CLI::App& sub) {
  // Everything after `gofer` is the gofer's (ParseGoferFlags checks it).
  sub.prefix_command();
  sub.allow_extras();
  return [&sub](const CommandContext&) -> absl::StatusOr<int> {
    absl::StatusOr<gofer::GoferFlags> f = gofer::ParseGoferFlags(sub.remaining());
    if (!f.ok()) return f.status();
    absl::Status s = gofer::RunGoferWithFlags(*f);
    if (!s.ok()) return s;
    return 0;
  };
}

}  // namespace palisade::cli
