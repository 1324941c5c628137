// Renders the syscall table (table_x86_64.cc) for people: the source of
// docs/compatibility.md (`palisade syscalls --format=markdown`), and CSV or
// JSON for tools.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace palisade {

// format: "markdown", "csv" or "json"; anything else is InvalidArgument.
absl::StatusOr<std::string> RenderSyscallTable(std::string_view format);

}  // namespace palisade
