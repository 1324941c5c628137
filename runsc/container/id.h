// Container id validation, as runc's validateID: one or more of
// [A-Za-z0-9_+.-], and not "." or ".." (the id names a directory under
// --root, so it must not walk out of it).
//
//   PAL_RETURN_IF_ERROR(ValidateContainerId(id));  // "invalid id format: ..."
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace palisade {

constexpr bool IsContainerIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '+' || c == '-' || c == '.';
}

absl::Status ValidateContainerId(absl::string_view id);

}  // namespace palisade
