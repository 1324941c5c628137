// BootConfig <-> JSON, how the front end hands a sandbox's configuration
// to `palisade boot` (through a memfd). Every BootConfig field is listed
// once in boot_config_json.cc; a new field needs one more name there, and
// an older config without it gets the field's default.
//
//   std::string text = BootConfigToJson(cfg);
//   PAL_ASSIGN_OR_RETURN(BootConfig back, BootConfigFromJson(text));
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "sentry/boot.h"

namespace palisade {

std::string BootConfigToJson(const BootConfig& cfg);
absl::StatusOr<BootConfig> BootConfigFromJson(const std::string& text);

}  // namespace palisade
