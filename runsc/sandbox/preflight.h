// Host checks `create` makes before starting a sandbox: settings that
// would stop the platform, reported with the setting's name and the fix.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace palisade::sandbox {

// proc_root: where /proc is (tests point it at a fake tree).
absl::Status Preflight(const std::string& platform, const std::string& proc_root = "/proc");

}  // namespace palisade::sandbox
