#include "sentry/kernel/cpu_timer_sampler.h"

#include <algorithm>
#include <vector>

#include "sentry/kernel/interval_timer.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace palisade {

void CpuTimerSampler::AddLocked(Kernel& k, const std::shared_ptr<IntervalTimer>& t, int64_t delay_ns) {
  armed_[t.get()] = t;
  ScheduleLocked(k, delay_ns);
}

void CpuTimerSampler::RemoveLocked(const IntervalTimer* t) {
  armed_.erase(t);
  // A tick left scheduled with nothing to check just finds armed_ empty.
}

void CpuTimerSampler::ScheduleLocked(Kernel& k, int64_t delay_ns) {
  delay_ns = std::clamp(delay_ns, kMinTickNs, kMaxTickNs);
  const int64_t deadline = MonotonicNowNs() + delay_ns;
  if (tick_id_ != 0) {
    if (tick_deadline_ <= deadline) return;  // an earlier tick is coming anyway
    k.timers().Cancel(tick_id_);
  }
  const uint64_t gen = ++gen_;
  tick_deadline_ = deadline;
  tick_id_ = k.timers().Schedule(deadline, [this, &k, gen] { Tick(k, gen); });
}

void CpuTimerSampler::Tick(Kernel& k, uint64_t gen) {
  std::lock_guard<std::mutex> l(k.mu());
  if (gen != gen_) return;  // superseded by an earlier-scheduled tick
  tick_id_ = 0;
  // Firing can arm or disarm other timers (a signal handler cannot run
  // here, but SetLocked callers can): iterate over a snapshot.
  std::vector<std::shared_ptr<IntervalTimer>> timers;
  timers.reserve(armed_.size());
  for (auto& [_, t] : armed_) timers.push_back(t);
  int64_t next = kMaxTickNs;
  // Timers on the same clock (a profiler's per-thread timers, ITIMER_PROF
  // and a process CPU timer...) share one reading per tick.
  CpuReadCache readings;
  for (auto& t : timers) {
    const int64_t d = t->SampleLocked(&readings);
    if (d < 0) {
      armed_.erase(t.get());
    } else {
      next = std::min(next, d);
    }
  }
  if (!armed_.empty()) ScheduleLocked(k, next);
}

}  // namespace palisade
