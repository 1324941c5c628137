// Credentials and capabilities (helper "creds"): prctl's capability
// options, kept beside the other credential calls.
#pragma once

#include <optional>

#include "sentry/syscalls/handlers.h"

namespace palisade::sys {

// prctl(2)'s PR_CAPBSET_*, PR_CAP_AMBIENT, PR_{GET,SET}_KEEPCAPS and
// PR_{GET,SET}_SECUREBITS; nullopt for any other option.
// (sys_prctl_caps.cc)
std::optional<SyscallResult> CapabilityPrctl(Task& t, const SyscallArgs& a);

}  // namespace palisade::sys
