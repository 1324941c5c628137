// OCI hooks: host programs run with the container's state JSON on stdin,
// with the hook's env and a timeout (killed after it), as runc runs them.
//
//   PAL_RETURN_IF_ERROR(RunHooks(spec.hooks.create_runtime, state, "createRuntime"));
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "runsc/container/state.h"
#include "runsc/oci/spec.h"

namespace palisade {

// Runs hooks in order; the first failure stops and is returned.
absl::Status RunHooks(const std::vector<oci::Hook>& hooks, const ContainerState& state,
                      const char* kind);

// For keeping poststop hooks in state.json until `delete`.
nlohmann::json HooksToJson(const std::vector<oci::Hook>& hooks);
std::vector<oci::Hook> HooksFromJson(const nlohmann::json& j);

}  // namespace palisade
