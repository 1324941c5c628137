// The gofer's seccomp allowlist: the file syscalls the server makes
// (relative to fds only: no open(2), no chdir, no mount), its socket I/O,
// and what the C++ runtime needs (memory, futex, exit). Anything else
// kills the gofer (SECCOMP_RET_KILL_PROCESS): the sentry then sees EIO.
// Rows are data in gofer_filter.cc, each with a why.
#pragma once

#include "absl/status/status.h"

namespace palisade::gofer {

// Installs the filter on the calling process (all threads, TSYNC).
// REQUIRES: no_new_privs is set or the caller has CAP_SYS_ADMIN.
absl::Status InstallGoferFilter();

}  // namespace palisade::gofer
