#include "runsc/container/id.h"

#include "absl/strings/str_cat.h"

namespace palisade {

absl::Status ValidateContainerId(absl::string_view id) {
  bool ok = !id.empty() && id != "." && id != "..";
  for (char c : id) ok = ok && IsContainerIdChar(c);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("invalid id format: \"", id, "\""));
  return absl::OkStatus();
}

}  // namespace palisade
