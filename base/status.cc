#include <string.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace palisade {

absl::Status ErrnoStatus(int err, std::string_view op, std::string_view object) {
  const char* name = strerrorname_np(err);
  std::string msg = object.empty()
                        ? absl::StrCat(std::string(op), ": ", strerror(err))
                        : absl::StrCat(std::string(op), " \"", std::string(object), "\": ", strerror(err));
  if (name) absl::StrAppend(&msg, " (", name, ")");
  return absl::Status(absl::ErrnoToStatusCode(err), msg);
}

}  // namespace palisade
