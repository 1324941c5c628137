// The sentry's entry point for the front end: everything the OCI layer has
// decided about a sandbox, and RunSandbox(), which builds the kernel, the
// mount tree and the init process, runs until the sandbox ends, and
// returns the container's exit code as runc reports it (the exit status,
// or 128+N after death by signal N).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace palisade {

struct BootMount {
  std::string destination;           // absolute path in the container
  std::string type;                  // "proc", "tmpfs", "bind", "sysfs", "devpts", "mqueue", ...
  std::string source;                // host path for bind mounts
  std::vector<std::string> options;  // "ro", "nosuid", "rbind", "mode=755", ...

  // A host directory or file served by the gofer (written through, no
  // overlay); "ro" makes it read-only.
  bool is_bind() const { return type == "bind" || type == "none" || type.empty(); }
};

// What backs the container's root filesystem (--overlay).
enum class RootOverlay {
  kMemory,  // writes go to a sentry-memory upper layer; the host rootfs is never modified
  kNone,    // writes go through the gofer to the bundle's rootfs
};

struct BootRlimit {
  int resource = 0;  // RLIMIT_*
  uint64_t soft = 0, hard = 0;
};

struct BootConfig {
  std::string rootfs;  // absolute host path of the bundle's root.path
  bool root_readonly = false;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string hostname = "palisade";
  std::vector<BootMount> mounts;
  std::vector<BootRlimit> rlimits;
  uint32_t umask = 022;
  bool no_new_privileges = false;
  std::string platform = "systrap";
  bool strace = false;    // print every app syscall through the logger
  bool terminal = false;  // stdio is a tty

  // The gofer (issue 4): the sentry's end of the socketpair to the
  // `palisade gofer` process serving the rootfs and bind mounts. Not
  // owned; the sentry dup()s it.
  int gofer_fd = -1;
  RootOverlay overlay = RootOverlay::kMemory;
};

absl::StatusOr<int> RunSandbox(const BootConfig& config);

}  // namespace palisade
