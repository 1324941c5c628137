#include "runsc/cli/version.h"

#include "absl/strings/str_cat.h"
#include "runsc/oci/default_spec.h"

// Set by runsc/CMakeLists.txt at configure time.
#ifndef PALISADE_VERSION
#define PALISADE_VERSION "0.0.0"
#endif
#ifndef PALISADE_GIT_COMMIT
#define PALISADE_GIT_COMMIT "unknown"
#endif

namespace palisade::cli {

std::string VersionText() {
  return absl::StrCat("palisade version ", PALISADE_VERSION, "\ncommit: ", PALISADE_GIT_COMMIT,
                      "\nspec: ", oci::kOciSpecVersion, "\n");
}

std::string VersionNumber() { return PALISADE_VERSION; }
std::string VersionCommit() { return PALISADE_GIT_COMMIT; }

}  // namespace palisade::cli
