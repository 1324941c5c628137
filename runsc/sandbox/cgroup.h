// The sandbox's cgroup: every host process of a sandbox (boot, stubs,
// later the gofer) lives in it, and it carries the config's
// linux.resources limits. cgroup v2 when the unified hierarchy has the
// controllers; otherwise v1, one directory per controller (memory, pids,
// cpu, freezer), as runc does on hybrid hosts.
//
//   PAL_ASSIGN_OR_RETURN(Cgroup cg, Cgroup::Create("/palisade/c1", spec.linux_config->resources));
//   opts.cgroup_procs_files = cg.ProcsFiles();
//   ...
//   cg.Freeze(true); cg.Destroy();
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace palisade::sandbox {

// The limits of linux.resources that palisade applies.
struct Resources {
  std::optional<int64_t> memory_limit;  // bytes; -1 unlimited
  std::optional<int64_t> memory_swap;   // memory+swap bytes; -1 unlimited
  std::optional<uint64_t> cpu_shares;
  std::optional<int64_t> cpu_quota;  // µs per period; -1 unlimited
  std::optional<uint64_t> cpu_period;
  std::optional<int64_t> pids_limit;  // -1 or 0 unlimited
};

// Parses linux.resources; unknown or unsupported members are warned about.
absl::StatusOr<Resources> ParseResources(const nlohmann::json& resources);

// The cgroup path for a container: cgroupsPath from config.json (made
// absolute; systemd's "slice:prefix:name" form becomes
// slice/prefix-name.scope), or /palisade/<id>.
std::string CgroupPathFor(const std::string& cgroups_path, const std::string& id);

class Cgroup {
 public:
  // Root of the cgroup file systems; a test may point it elsewhere.
  static absl::StatusOr<Cgroup> Create(const std::string& path, const Resources& res,
                                       const std::string& mount_root = "/sys/fs/cgroup");
  // The cgroup of an existing container (nothing is created).
  static Cgroup Open(const std::string& path, const std::string& mount_root = "/sys/fs/cgroup");

  bool v2() const { return v2_; }
  const std::string& path() const { return path_; }
  // Files a process writes "0" to in order to join.
  std::vector<std::string> ProcsFiles() const;
  // Host pids of every process in the cgroup.
  std::vector<pid_t> Pids() const;
  absl::Status Freeze(bool frozen) const;
  bool Frozen() const;
  // Kills every process in it, waits until it is empty and removes the
  // directories. Missing directories are fine.
  absl::Status Destroy() const;
  // runc's `events --stats` "data" object (cpu, memory, pids).
  nlohmann::ordered_json Stats() const;
  // Has the memory controller OOM-killed something here?
  uint64_t OomKills() const;

 private:
  std::string Dir(const std::string& controller) const;
  bool v2_ = false;
  std::string root_;
  std::string path_;
};

}  // namespace palisade::sandbox
