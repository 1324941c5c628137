// ToBootConfig: turns a loaded bundle plus the front end's own flags into
// the sentry's BootConfig (sentry/boot.h). Rlimit names become RLIMIT_*
// numbers through rlimits.h; mounts pass through unchanged, since the
// sentry decides how to serve each mount type.
//
//   PAL_ASSIGN_OR_RETURN(Bundle b, LoadBundle(dir));
//   PAL_ASSIGN_OR_RETURN(BootConfig cfg, ToBootConfig(b, {.platform = "ptrace"}));
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "runsc/oci/bundle.h"
#include "sentry/boot.h"

namespace palisade::oci {

struct BootOptions {
  std::string platform = "systrap";  // --platform
  bool strace = false;              // --strace
  // Whether the front end's stdin is a terminal: process.terminal only turns
  // into a tty for the sandbox when there is one to hand over.
  bool stdio_is_tty = false;
};

// Fails when the spec has no process (legal for `create` in the spec, but
// nothing to run).
absl::StatusOr<BootConfig> ToBootConfig(const Bundle& bundle, const BootOptions& opts);

}  // namespace palisade::oci
