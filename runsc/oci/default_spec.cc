#include "runsc/oci/default_spec.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace palisade::oci {
namespace {

using Json = nlohmann::ordered_json;

Json BaseSpec() {
  const Json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return Json{
      {"ociVersion", kOciSpecVersion},
      {"process",
       {
           {"terminal", true},
           {"user", {{"uid", 0}, {"gid", 0}}},
           {"args", {"sh"}},
           {"env",
            {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
           {"cwd", "/"},
           {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
           {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
           {"noNewPrivileges", true},
       }},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "palisade"},
      {"mounts",
       {
           {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
           {{"destination", "/dev"},
            {"type", "tmpfs"},
            {"source", "tmpfs"},
            {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
           {{"destination", "/dev/pts"},
            {"type", "devpts"},
            {"source", "devpts"},
            {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
           {{"destination", "/dev/shm"},
            {"type", "tmpfs"},
            {"source", "shm"},
            {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
           {{"destination", "/dev/mqueue"},
            {"type", "mqueue"},
            {"source", "mqueue"},
            {"options", {"nosuid", "noexec", "nodev"}}},
           {{"destination", "/sys"},
            {"type", "sysfs"},
            {"source", "sysfs"},
            {"options", {"nosuid", "noexec", "nodev", "ro"}}},
           {{"destination", "/sys/fs/cgroup"},
            {"type", "cgroup"},
            {"source", "cgroup"},
            {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
       }},
      {"linux",
       {
           {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
           {"namespaces",
            {{{"type", "pid"}},
             {{"type", "network"}},
             {{"type", "ipc"}},
             {{"type", "uts"}},
             {{"type", "mount"}},
             {{"type", "cgroup"}}}},
           {"maskedPaths",
            {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
             "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
             "/proc/scsi"}},
           {"readonlyPaths",
            {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
       }},
  };
}

// runc's specconv.ToRootless: a user namespace mapping the caller to root,
// no network namespace, /sys as a read-only rbind, no uid=/gid= mount
// options and no cgroup resources.
void MakeRootless(Json& spec, uint32_t uid, uint32_t gid) {
  Json& linux_section = spec["linux"];
  Json namespaces = Json::array();
  for (const Json& ns : linux_section["namespaces"]) {
    const std::string type = ns["type"];
    if (type != "network" && type != "user") namespaces.push_back(ns);
  }
  namespaces.push_back({{"type", "user"}});
  linux_section["namespaces"] = namespaces;
  linux_section["uidMappings"] = {{{"containerID", 0}, {"hostID", uid}, {"size", 1}}};
  linux_section["gidMappings"] = {{{"containerID", 0}, {"hostID", gid}, {"size", 1}}};
  linux_section.erase("resources");

  Json mounts = Json::array();
  for (Json m : spec["mounts"]) {
    if (m["destination"] == "/sys") {
      mounts.push_back({{"destination", "/sys"},
                        {"type", "none"},
                        {"source", "/sys"},
                        {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
      continue;
    }
    if (m.contains("options")) {
      Json options = Json::array();
      for (const Json& o : m["options"]) {
        const std::string opt = o;
        if (!absl::StartsWith(opt, "uid=") && !absl::StartsWith(opt, "gid=")) {
          options.push_back(o);
        }
      }
      m["options"] = options;
    }
    mounts.push_back(m);
  }
  spec["mounts"] = mounts;
}

}  // namespace

nlohmann::ordered_json DefaultSpec(const DefaultSpecOptions& opts) {
  Json spec = BaseSpec();
  if (opts.rootless) MakeRootless(spec, opts.uid, opts.gid);
  return spec;
}

}  // namespace palisade::oci
