#include "sentry/control/boot_config_json.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace palisade {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BootMount, destination, type, source, options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BootRlimit, resource, soft, hard)
// Add new BootConfig fields here (one name each).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BootConfig, rootfs, root_readonly, argv, env, cwd,
                                                uid, gid, additional_gids, hostname, mounts,
                                                rlimits, umask, no_new_privileges, platform,
                                                strace, terminal, gofer_fd, overlay,
                                                report_path, report_format, page_cache_retention)

std::string BootConfigToJson(const BootConfig& cfg) { return nlohmann::json(cfg).dump(); }

absl::StatusOr<BootConfig> BootConfigFromJson(const std::string& text) {
  try {
    return nlohmann::json::parse(text).get<BootConfig>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed boot config: ", e.what()));
  }
}

}  // namespace palisade
