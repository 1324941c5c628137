// The global flags of `palisade`: runc's (--root --log --log-format --debug
// --systemd-cgroup --rootless) plus palisade's own (--platform --strace).
// Callers such as go-runc and conmon send Go-style single-dash long flags
// (`-no-subreaper`); NormalizeGoStyleFlags rewrites them to `--no-subreaper`
// before CLI11 sees them.
//
//   GlobalOptions g;
//   AddGlobalFlags(app, g);
//   app.parse(Reversed(NormalizeGoStyleFlags(args)));
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "base/logging.h"

namespace palisade::cli {

struct GlobalOptions {
  std::string root;  // set from DefaultRoot() by AddGlobalFlags
  std::string log;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  std::string rootless = "auto";
  std::string platform = "systrap";
  bool strace = false;
  // Root filesystem backing (gofer issue): "memory" keeps the container's
  // changes in sentry memory, "none" writes through to the bundle's rootfs.
  std::string overlay = "memory";
  // Global flags CLI11 did not know, kept to warn about (never an error:
  // callers pass runtime flags meant for other runtimes).
  std::vector<std::string> unknown_flags;
};

// runc's default: /run/palisade, or $XDG_RUNTIME_DIR/palisade when not root
// and XDG_RUNTIME_DIR is set (podman rootless sets it).
std::string DefaultRoot();

// Registers the flags on the top-level app. The values are stored as soon
// as each flag is parsed, so they are there even when parsing fails later
// (the error must still reach --log).
void AddGlobalFlags(CLI::App& app, GlobalOptions& opts);

// Rewrites `-foo` and `-foo=bar` to `--foo`/`--foo=bar`. Single-letter flags
// (-b, -d, -v), negative numbers, "-" and everything after "--" are left as
// they are. `args` excludes argv[0].
std::vector<std::string> NormalizeGoStyleFlags(std::vector<std::string> args);

LogOptions ToLogOptions(const GlobalOptions& opts);

// Logs a warning for each global flag that is accepted but has no effect.
// REQUIRES: logging is initialized.
void WarnAboutIgnoredGlobalFlags(const GlobalOptions& opts);

}  // namespace palisade::cli
