// Test-only stand-in for base/status.cc's ErrnoStatus: palisade_base does
// not compile against Debian's Abseil at the moment (absl::StrCat does not
// take std::string_view there), and these tests must not wait for it.
// Replace with a palisade_base dependency once base/status.cc builds.
#include <string.h>

#include <string>

#include "base/status_macros.h"

namespace palisade {

absl::Status ErrnoStatus(int err, std::string_view op, std::string_view object) {
  std::string msg(op);
  if (!object.empty()) msg += " \"" + std::string(object) + "\"";
  msg += ": ";
  msg += strerror(err);
  return absl::Status(absl::ErrnoToStatusCode(err), msg);
}

}  // namespace palisade
