// `palisade --version`, in the shape go-runc's parseVersion reads:
//   palisade version 0.1.0
//   commit: <git sha at configure time, or "unknown">
//   spec: 1.0.2-dev
#pragma once

#include <string>

namespace palisade::cli {

std::string VersionText();
// The bare version ("0.1.0") and commit, for `features`.
std::string VersionNumber();
std::string VersionCommit();

}  // namespace palisade::cli
