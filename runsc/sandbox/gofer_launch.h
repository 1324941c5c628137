// Starts the gofer of a sandbox: fork + exec of `palisade-gofer gofer ...`
// (the small binary installed next to palisade, gofer/cmd/; `palisade
// gofer` through /proc/self/exe when there is none) with the server's end of a SOCK_SEQPACKET socketpair, and waits until it
// has set itself up (namespaces, mounts, pivot_root, capabilities,
// seccomp). A gofer that fails at start reports its root cause on a pipe,
// which becomes this function's error (never a bare EOF).
//
//   PAL_ASSIGN_OR_RETURN(GoferProcess g, LaunchGofer(GoferSpecFor(cfg)));
//   cfg.gofer_fd = g.sentry_sock.get();
//   ... run the sentry ...
//   StopGofer(g);
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "sentry/boot.h"

namespace palisade {

struct GoferSpec {
  std::string rootfs;
  bool rootfs_writable = false;
  struct Bind {
    std::string source, destination;
    bool readonly = false;
  };
  std::vector<Bind> binds;
  // palisade's global flags for the gofer's own logging (--log, --log-format,
  // --debug), so its messages reach the same log file as the front end's.
  std::vector<std::string> global_args;
  // Keep the caller's stderr (a foreground `run`). Otherwise the gofer's
  // stderr is /dev/null: a detached sandbox must not hold the caller's
  // stderr open (containerd's shim waits for EOF on it after `create`).
  bool keep_stderr = false;
};

// What the gofer needs from a sandbox's BootConfig: the rootfs (writable
// only with --overlay=none and a writable root) and its bind mounts.
GoferSpec GoferSpecFor(const BootConfig& cfg);

struct GoferProcess {
  pid_t pid = -1;
  UniqueFd sentry_sock;  // the sentry's end
};

absl::StatusOr<GoferProcess> LaunchGofer(const GoferSpec& spec);

// Ends the gofer after the sandbox: closes our end, kills and reaps it.
// If it had died during the run, that is logged as an error.
void StopGofer(GoferProcess& g);

}  // namespace palisade
