// The container's stdio: fds 0, 1 and 2 of init are the front end's own,
// shared (same open file descriptions, as runc does) through host-stdio
// files in the sentry; with process.terminal they are a sandbox pty
// relayed to the front end's tty instead (console_relay.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "sentry/boot.h"
#include "sentry/console_relay.h"

namespace palisade {
class Task;

// Returns the console relay when init got a terminal (null otherwise); it
// must outlive the sandbox so the last output reaches the host.
absl::StatusOr<std::unique_ptr<ConsoleRelay>> InstallStdio(Task& init, const BootConfig& cfg);
}  // namespace palisade
