// The container's stdio: fds 0, 1 and 2 of init are the front end's own,
// shared (same open file descriptions, as runc does) through host-stdio
// files in the sentry.
#pragma once

#include "absl/status/status.h"
#include "sentry/boot.h"

namespace palisade {
class Task;
absl::Status InstallStdio(Task& init, const BootConfig& cfg);
}  // namespace palisade
