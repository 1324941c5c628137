// `palisade features`: what this runtime supports, in the runtime-spec
// features JSON shape runc prints (runc PR #3296), with palisade's values.
#include <iostream>
#include <memory>

#include "runsc/cli/commands.h"
#include "runsc/cli/version.h"
#include "runsc/oci/default_spec.h"

namespace palisade::cli {
namespace {

nlohmann::ordered_json Features() {
  nlohmann::ordered_json j;
  j["ociVersionMin"] = "1.0.0";
  j["ociVersionMax"] = oci::kOciSpecVersion;
  j["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                "poststop"};
  // The options the sentry's mount code understands (sentry/boot_mounts.cc).
  j["mountOptions"] = {"bind",     "dev",   "exec",    "noatime", "nodev",   "noexec",
                       "nosuid",   "private", "rbind", "relatime", "rprivate", "ro",
                       "rshared",  "rslave", "rw",     "shared",  "slave",   "strictatime",
                       "suid"};
  j["linux"] = {
      {"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "uts"}},
      // The sentry models capabilities as all-or-nothing by uid for now.
      {"capabilities", nlohmann::ordered_json::array()},
      {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
      {"seccomp", {{"enabled", false}}},
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
  };
  j["annotations"] = {{"org.palisade.version", VersionNumber()},
                      {"org.palisade.commit", VersionCommit()}};
  return j;
}

}  // namespace

CommandRunner SetupFeatures(CLI::App& sub) {
  return [](const CommandContext&) -> absl::StatusOr<int> {
    std::cout << Features().dump(4) << "\n";
    return 0;
  };
}

}  // namespace palisade::cli
