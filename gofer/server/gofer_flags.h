// The gofer's command line, shared by its two entry points: the small
// `palisade-gofer` binary (gofer/cmd/, what the front end starts) and the
// hidden `palisade gofer` subcommand (runsc/cli/gofer.cc, used when
// palisade-gofer is not installed next to palisade). Both accept
//
//   [--log=FILE] [--log-format=text|json] [--debug] gofer --rootfs DIR
//       [--rootfs-writable] [--binds JSON] --sock-fd N --report-fd N
//
// where the global flags are the ones runsc/sandbox/gofer_launch.cc passes
// on, with palisade's meaning. Parsed by hand rather than with CLI11: the
// static palisade-gofer stays small (no iostreams, no CLI11 templates), and
// every page of it that is not mapped is RSS an idle sandbox does not hold.
//
//   PAL_ASSIGN_OR_RETURN(GoferFlags f, ParseGoferFlags(args_after_gofer));
//   PAL_RETURN_IF_ERROR(RunGoferWithFlags(f));
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/logging.h"

namespace palisade::gofer {

struct GoferFlags {
  std::string rootfs;
  bool rootfs_writable = false;
  std::string binds_json = "[]";
  int sock_fd = -1;
  int report_fd = -1;
};

// The flags after the word `gofer`. Values come as `--flag value` or
// `--flag=value`; --rootfs is required; anything else is an error naming it.
absl::StatusOr<GoferFlags> ParseGoferFlags(const std::vector<std::string>& args);

// A whole palisade-gofer command line (argv[1..]): the global flags above,
// then `gofer` and its flags. The global flags become *log.
absl::StatusOr<GoferFlags> ParseGoferCommandLine(const std::vector<std::string>& args,
                                                 LogOptions* log);

// Checks the flags and runs the gofer (RunGofer); returns when the sentry
// hangs up.
absl::Status RunGoferWithFlags(const GoferFlags& f);

}  // namespace palisade::gofer
