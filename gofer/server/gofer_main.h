// `palisade gofer`: the process that serves a sandbox's files. Its set-up
// steps, in order (each failure is reported on report_fd, then exit 1):
//
//   1. open /proc/self/fd (the server reopens fids through it)
//   2. unshare mount + network namespaces; make every mount private
//   3. a tmpfs on /proc as staging, the rootfs rbind-mounted at /proc/root
//   4. each config.json bind mount on its destination in there (ro ones
//      remounted read-only); the rootfs itself read-only unless the sentry
//      writes through to it (--overlay=none with a writable root)
//   5. pivot_root into the rootfs and detach the old root
//   6. drop every capability but the file-serving ones, no_new_privs
//   7. the seccomp allowlist (gofer_filter.h)
//   8. "ok" on report_fd, then serve on sock_fd until the sentry hangs up
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace palisade::gofer {

struct GoferBind {
  std::string source;       // host path
  std::string destination;  // absolute path in the container
  bool readonly = false;
};

struct GoferOptions {
  std::string rootfs;         // host path of the bundle's rootfs
  bool rootfs_writable = false;
  std::vector<GoferBind> binds;
  int sock_fd = -1;    // the server's end of the socketpair
  int report_fd = -1;  // set-up result for the launcher ("ok" or an error)
};

// Sets up (steps 1-7) and serves; returns when the sentry hangs up. Set-up
// errors are also written to report_fd so the launcher can show them.
absl::Status RunGofer(const GoferOptions& opts);

// The bind mounts as the launcher passes them (a JSON array of
// {"source","destination","readonly"}), and back.
std::string BindsToJson(const std::vector<GoferBind>& binds);
absl::Status BindsFromJson(const std::string& json, std::vector<GoferBind>* binds);

}  // namespace palisade::gofer
