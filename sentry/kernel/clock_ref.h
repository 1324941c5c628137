// ClockRef: a clock as an application names it with a clockid_t, resolved
// once (clock_gettime, timer_create, clock_nanosleep): a host clock the
// sandbox passes through, or a CPU-time clock of a thread or process of
// the sandbox (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, and the
// negative ids clock_getcpuclockid(3)/pthread_getcpuclockid(3) build, in
// Linux's encoding: ~pid << 3 | per-thread 4 | PROF 0 / VIRT 1 / SCHED 2).
#pragma once

#include <time.h>

#include <map>
#include <memory>

#include "base/errno.h"
#include "sentry/kernel/cpu_clock.h"

namespace palisade {

class Task;
class ThreadGroup;

enum class CpuClockKind { kProf = 0, kVirt = 1, kSched = 2 };

// CPU readings taken during one CpuTimerSampler tick, by thread or process,
// so timers counting the same clock share one reading.
using CpuReadCache = std::map<const void*, CpuTimes>;

struct ClockRef {
  bool cpu = false;
  clockid_t host = CLOCK_MONOTONIC;  // !cpu: the host clock read
  // cpu: exactly one of these. Held weakly: a clock does not keep its
  // thread or process alive; reading a dead one is EINVAL.
  std::weak_ptr<Task> thread;
  std::weak_ptr<ThreadGroup> process;
  CpuClockKind kind = CpuClockKind::kSched;

  // Current value in ns. REQUIRES: Kernel::mu() held (for CPU clocks).
  ErrnoOr<int64_t> NowLocked(CpuReadCache* cache = nullptr) const;
  // False once a CPU clock's thread or process has exited: it will not
  // advance again. REQUIRES: Kernel::mu() held.
  bool AdvancesLocked() const;
  // How many application threads can advance this clock at once (for
  // estimating when a CPU clock may reach a value). REQUIRES: Kernel::mu().
  int RateLocked() const;
};

// Resolves clockid `id` as seen by caller t. EINVAL for an unknown id or a
// CPU clock of a thread outside t's process or of a process that does not
// exist (what Linux reports). REQUIRES: Kernel::mu() held.
ErrnoOr<ClockRef> ResolveClockLocked(Task& t, clockid_t id);

// True if id names a CPU-time clock (valid or not).
inline bool IsCpuClockId(clockid_t id) {
  return id < 0 || id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID;
}

}  // namespace palisade
