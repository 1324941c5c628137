// CpuTimerSampler: drives the timers that count CPU time (ITIMER_VIRTUAL,
// ITIMER_PROF, POSIX timers on CPU clocks). CPU time is only known by
// reading it (cpu_clock.h), so while any such timer is armed the sampler
// runs a tick on the kernel's TimerService that reads their clocks and
// fires those that are due.
//
// Tick spacing adapts: a clock cannot advance faster than the number of
// threads that feed it, so the next tick comes when the nearest timer
// could first be due, clamped to [kMinTickNs, kMaxTickNs]. A timer thus
// fires at most about kMinTickNs of wall time late (Linux checks CPU
// timers at the scheduler tick, 1-4 ms); an armed timer far from expiry
// costs one tick per kMaxTickNs. Guarded by Kernel::mu().
#pragma once

#include <cstdint>
#include <map>
#include <memory>

namespace palisade {

class IntervalTimer;
class Kernel;

class CpuTimerSampler {
 public:
  static constexpr int64_t kMinTickNs = 2'000'000;
  static constexpr int64_t kMaxTickNs = 50'000'000;

  // Starts checking t, first after about delay_ns (an estimate, clamped).
  void AddLocked(Kernel& k, const std::shared_ptr<IntervalTimer>& t, int64_t delay_ns);
  void RemoveLocked(const IntervalTimer* t);

 private:
  void ScheduleLocked(Kernel& k, int64_t delay_ns);
  void Tick(Kernel& k, uint64_t gen);

  std::map<const IntervalTimer*, std::shared_ptr<IntervalTimer>> armed_;
  uint64_t tick_id_ = 0;        // pending TimerService callback, or 0
  int64_t tick_deadline_ = 0;   // its CLOCK_MONOTONIC deadline
  uint64_t gen_ = 0;            // identifies the pending tick
};

}  // namespace palisade
