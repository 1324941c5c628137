// The sentry's entry point for the front end: everything the OCI layer has
// decided about a sandbox, and RunSandbox(), which builds the kernel, the
// mount tree and the init process, runs until the sandbox ends, and
// returns the container's exit code as runc reports it (the exit status,
// or 128+N after death by signal N).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace palisade {

class Kernel;
class ThreadGroup;

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
  // --report: where to write the workload report when the sandbox ends
  // (empty: no report), and its format, "json" or "text".
  std::string report_path;
  std::string report_format = "json";

  // The gofer (issue 4): the sentry's end of the socketpair to the
  // `palisade gofer` process serving the rootfs and bind mounts. Not
  // owned; the sentry dup()s it.
  int gofer_fd = -1;
  RootOverlay overlay = RootOverlay::kMemory;
  // Bytes of rootfs page cache kept after the last mapping of a file is
  // gone (gofer::SetPageCacheRetention); -1: the default, 32 MiB.
  int64_t page_cache_retention = -1;
};

// What the sandbox's host process (`palisade boot`) adds around
// RunSandbox: the start barrier of `create`/`start`.
struct BootHooks {
  // Runs once the kernel, the mount tree and init's task exist, just before
  // init's program is exec'd; blocks until the container may start.
  // Returns nullopt to go on, or an exit code to end the sandbox with (the
  // container was killed before it started). Unset: start at once.
  std::function<std::optional<int>(Kernel&)> at_start_barrier;
};

absl::StatusOr<int> RunSandbox(const BootConfig& config);
absl::StatusOr<int> RunSandbox(const BootConfig& config, const BootHooks& hooks);

// A process that `palisade exec` starts in a running sandbox.
struct ExecSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  bool no_new_privileges = false;
  bool terminal = false;  // a sandbox pty relayed to stdio[0], if that is a tty
};

// Starts spec in the running sandbox with stdio (3 host fds, dup'ed) as
// its fds 0-2. The process has no parent in the sandbox (as a process
// that joined a container with setns): its exit leaves a zombie thread
// group the caller watches (ThreadGroup::zombie under Kernel::mu()).
absl::StatusOr<std::shared_ptr<ThreadGroup>> SpawnProcess(Kernel& k, const ExecSpec& spec,
                                                          std::span<const int> stdio);

// runc's exit code for a wait status: the status, or 128+N after signal N.
int ExitCodeFromWaitStatus(int status);

}  // namespace palisade
