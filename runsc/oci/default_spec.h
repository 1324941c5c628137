// DefaultSpec: the config.json that `palisade spec` writes, the same
// template `runc spec` produces (runc's libcontainer/specconv Example and
// ToRootless), with hostname "palisade". It runs `sh` in ./rootfs.
//
//   nlohmann::ordered_json doc = DefaultSpec({.rootless = true, .uid = geteuid(), .gid = getegid()});
//   out << doc.dump(1, '\t');
#pragma once

#include <cstdint>

#include "nlohmann/json.hpp"

namespace palisade::oci {

// The spec version written into ociVersion (and printed by --version).
inline constexpr const char kOciSpecVersion[] = "1.0.2-dev";

struct DefaultSpecOptions {
  bool rootless = false;
  // For rootless: the host ids mapped to root in the user namespace.
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// Keys keep runc's order (ociVersion, process, root, ...) for humans.
nlohmann::ordered_json DefaultSpec(const DefaultSpecOptions& opts);

}  // namespace palisade::oci
