// OciSpec: the typed model of an OCI runtime-spec config.json, the subset a
// runtime acts on. Field names follow the JSON (camelCase there, snake_case
// here). Parsing lives in spec_parse.h, bundle loading in bundle.h and the
// conversion to the sentry's BootConfig in boot_config.h.
//
//   PAL_ASSIGN_OR_RETURN(OciSpec spec, ParseSpec(text));
//   if (spec.process) Use(spec.process->args);
//
// Fields the runtime does not interpret yet (linux.resources, which the
// cgroup work will type) are kept as raw JSON so nothing is lost.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace palisade::oci {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;  // absent: the runtime's default (0022)
  std::vector<uint32_t> additional_gids;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE", ...; validated against rlimits.h
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;  // never empty after ParseSpec
  std::vector<std::string> env;
  std::string cwd;  // absolute after ParseSpec
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<Capabilities> capabilities;
};

struct Root {
  std::string path;  // as written; relative paths are relative to the bundle
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // empty: create a new one
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct LinuxConfig {
  std::vector<Namespace> namespaces;
  nlohmann::json resources;  // null when absent; typed by the cgroup work
  std::string cgroups_path;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, std::string> sysctl;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int64_t> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart;
  std::vector<Hook> create_runtime;
  std::vector<Hook> create_container;
  std::vector<Hook> start_container;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;

  bool empty() const {
    return prestart.empty() && create_runtime.empty() && create_container.empty() &&
           start_container.empty() && poststart.empty() && poststop.empty();
  }
};

struct OciSpec {
  std::string oci_version;
  std::optional<Process> process;  // optional in the spec; `run` requires it
  Root root;                       // required: ParseSpec fails without it
  std::string hostname;
  std::vector<Mount> mounts;
  // Named linux_config because `linux` is a predefined macro under gnu++.
  std::optional<LinuxConfig> linux_config;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
};

}  // namespace palisade::oci
