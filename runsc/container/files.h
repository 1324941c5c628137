// Small file helpers for the front end's state: atomic whole-file writes
// (write a temporary file in the same directory, fsync, rename over the
// target) so readers such as conmon never see a half-written pid file or
// state.json.
//
//   PAL_RETURN_IF_ERROR(WritePidFile("/run/x.pid", getpid()));
#pragma once

#include <sys/types.h>

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace palisade {

// REQUIRES: the parent directory of `path` exists.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, mode_t mode);

// runc's pid file: the decimal pid, no newline, mode 0666 & ~umask.
// A relative path is relative to the working directory.
absl::Status WritePidFile(const std::string& path, pid_t pid);

}  // namespace palisade
