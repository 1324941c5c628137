// The futex hand-off between a sentry thread and one stub thread through
// its region header (systrap_abi.h): the sentry posts a command (RUN,
// SPAWN, EXIT) and waits for the stub's EVENT. Both sides spin briefly
// before sleeping in FUTEX_WAIT and wake the other only if it sleeps.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "platform/systrap/shared_region.h"

namespace palisade::platform {

// How often a sentry thread waiting on a stub checks that it is alive.
inline constexpr int64_t kLivenessCheckNs = 50'000'000;

// Sets the state word to `command` and wakes the stub if it sleeps.
void PostToStub(SystrapHeader& h, uint32_t command);

// Waits for STATE_EVENT: spins for up to the spin budget (20 us, or
// PALISADE_SYSTRAP_SPIN_NS), then sleeps, calling alive() every
// kLivenessCheckNs of sleep. False once alive() says the stub is gone. Adds the wall time
// spent spinning to *spun (may be null).
bool WaitForStub(SystrapHeader& h, const std::function<bool()>& alive, std::atomic<int64_t>* spun);

int64_t MonotonicNs();

}  // namespace palisade::platform
