// Starts a sandbox's host process: `palisade boot` (a re-exec of
// /proc/self/exe) in new namespaces (or joined ones) and in the
// sandbox's cgroup, with the BootConfig in a memfd, the listening control
// socket and a ready pipe. Returns once the boot process is at the start
// barrier, or with its own root-cause error.
//
//   PAL_ASSIGN_OR_RETURN(pid_t pid, SpawnSandbox(opts));
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sentry/boot.h"

namespace palisade::sandbox {

struct NamespaceRequest {
  int clone_flag = 0;  // CLONE_NEWNS, CLONE_NEWPID, ...
  std::string path;    // empty: create a new one; else join it
};

struct SpawnOptions {
  BootConfig config;
  std::string control_socket;  // path to bind and listen on
  std::vector<NamespaceRequest> namespaces;
  // cgroup.procs (v2) or per-controller cgroup.procs/tasks (v1) files the
  // child joins before it execs.
  std::vector<std::string> cgroup_procs_files;
  int stdio[3] = {0, 1, 2};  // the container's stdio (the caller's, or a pty)
  // The sentry's end of the gofer socket, or -1: it becomes fd 6 in the
  // boot process and config.gofer_fd says so.
  int gofer_fd = -1;
  // Global flags passed on to `palisade boot` (--log, --log-format, --debug).
  std::vector<std::string> global_args;
};

struct SpawnedSandbox {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

absl::StatusOr<SpawnedSandbox> SpawnSandbox(const SpawnOptions& opts);

// The start time of pid (/proc/<pid>/stat field 22), 0 if it is gone.
uint64_t ProcessStartTime(pid_t pid);

// Is pid alive and the same process (start time) as recorded?
bool SandboxAlive(pid_t pid, uint64_t start_time);

}  // namespace palisade::sandbox
