// Signal names for `kill`, as runc's parseSignal reads them: a number, or
// a name with or without "SIG" in any case ("KILL", "sigterm", "RTMIN+3").
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace palisade::cli {

// InvalidArgument `unknown signal "X"` (runc's wording) for anything else.
absl::StatusOr<int> ParseSignal(const std::string& raw);

}  // namespace palisade::cli
