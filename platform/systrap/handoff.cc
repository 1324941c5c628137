#include "platform/systrap/handoff.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace palisade::platform {
namespace {

// How long the sentry spins for the stub's next report before sleeping in
// FUTEX_WAIT. A trapped syscall comes back within a few microseconds; a
// futex wake-up of a sleeping sentry costs far more (an idle vCPU must be
// woken: ~20 us on the 2-vCPU VMs of docs/benchmarks.md). Bounded, since
// the spinning thread holds a CPU the app may want.
long SpinBudgetNs() {
  static const long ns = [] {
    if (const char* e = std::getenv("PALISADE_SYSTRAP_SPIN_NS")) return std::strtol(e, nullptr, 10);
    return 20'000L;
  }();
  return ns;
}

long Futex(std::atomic<uint32_t>& word, int op, uint32_t val, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), op, val, timeout, nullptr, 0);
}

}  // namespace

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void PostToStub(SystrapHeader& h, uint32_t command) {
  h.state.store(command, std::memory_order_seq_cst);
  if (h.stub_sleeping.load(std::memory_order_seq_cst) != 0) Futex(h.state, FUTEX_WAKE, 1, nullptr);
}

bool WaitForStub(SystrapHeader& h, const std::function<bool()>& alive, std::atomic<int64_t>* spun) {
  const long spin_ns = SpinBudgetNs();
  if (spin_ns > 0) {
    const int64_t start = MonotonicNs(), until = start + spin_ns;
    bool event = false;
    for (unsigned i = 1;; ++i) {
      if (h.state.load(std::memory_order_acquire) == PALISADE_SYSTRAP_STATE_EVENT) {
        event = true;
        break;
      }
      __builtin_ia32_pause();
      if (i % 64 == 0 && MonotonicNs() > until) break;
    }
    if (spun != nullptr) spun->fetch_add(MonotonicNs() - start, std::memory_order_relaxed);
    if (event) return true;
  }
  const timespec timeout{0, kLivenessCheckNs};
  for (;;) {
    h.sentry_sleeping.store(1, std::memory_order_seq_cst);
    const uint32_t s = h.state.load(std::memory_order_seq_cst);
    if (s == PALISADE_SYSTRAP_STATE_EVENT) break;
    if (Futex(h.state, FUTEX_WAIT, s, &timeout) != 0 && errno == ETIMEDOUT && !alive()) {
      h.sentry_sleeping.store(0, std::memory_order_relaxed);
      return false;
    }
  }
  h.sentry_sleeping.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

}  // namespace palisade::platform
