// Process-wide logging set-up through spdlog, with runc's flags: --debug
// raises the level, --log names a file (else stderr), --log-format json
// writes {"level","msg","time"} lines that containerd's shim parses.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "spdlog/spdlog.h"

namespace palisade {

struct LogOptions {
  bool debug = false;
  std::string file;           // empty: stderr only
  std::string format = "text";  // "text" or "json"
};

// Installs the default spdlog logger. Errors are always echoed to stderr,
// even when a --log file is given, as runc does.
absl::Status InitLogging(const LogOptions& opts);

}  // namespace palisade
