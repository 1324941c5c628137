// The OCI rlimit names ("RLIMIT_NOFILE", ...) and their Linux RLIMIT_*
// numbers, as a constexpr table (the runtime-spec lists exactly these).
//
//   std::optional<int> r = RlimitFromName("RLIMIT_NOFILE");  // RLIMIT_NOFILE
#pragma once

#include <sys/resource.h>

#include <array>
#include <optional>
#include <string_view>

namespace palisade::oci {

struct RlimitName {
  std::string_view name;
  int resource;
};

inline constexpr std::array<RlimitName, 16> kRlimitNames = {{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

// nullopt for a name the runtime-spec does not define.
constexpr std::optional<int> RlimitFromName(std::string_view name) {
  for (const RlimitName& r : kRlimitNames) {
    if (r.name == name) return r.resource;
  }
  return std::nullopt;
}

static_assert(RlimitFromName("RLIMIT_NOFILE") == RLIMIT_NOFILE);
static_assert(!RlimitFromName("RLIMIT_BOGUS").has_value());

}  // namespace palisade::oci
