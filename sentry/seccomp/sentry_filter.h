// The sentry's own seccomp filter (libseccomp), for the separate
// `palisade boot` process: what a sentry on the ptrace platform needs, and
// nothing that names a host path. The sentry reaches files only through
// fds the gofer donated, so open/openat/openat2/creat, stat-by-path,
// mkdir/unlink/rename/link, chdir/chroot, mount and friends are refused
// with EPERM (a library probing a file fails cleanly); any syscall not in
// the table kills the process (SIGSYS). Rows are data in sentry_filter.cc,
// each with a why.
//
// `palisade boot` installs it at the start barrier (boot_main.cc), after
// set-up and before the application runs. It reaches every sentry thread
// but no stub: stubs come from the stub factory, forked before it
// (platform/ptrace/stub_factory.h). fstat() (newfstatat with an empty
// path) traps to a SIGSYS handler this installs, which serves only the
// empty-path form.
//
//   PAL_RETURN_IF_ERROR(seccomp::InstallSentryFilter());
#pragma once

#include <string>

#include "absl/status/status.h"

namespace palisade::seccomp {

struct SentryFilterOptions {
  // Also allow what the test harness needs to report (gtest writes only
  // to inherited fds, so nothing extra today); kept for the boot process.
  bool log_denials = false;  // SCMP_ACT_LOG instead of killing (debugging only)
};

// Installs the filter on the calling process (every thread, TSYNC), and
// the process-wide SIGSYS handler it relies on. Sets no_new_privs first.
absl::Status InstallSentryFilter(const SentryFilterOptions& opts = {});

// The filter as libseccomp's PFC text (for `palisade debug --dump-filter`
// and tests).
std::string SentryFilterPfc();

}  // namespace palisade::seccomp
