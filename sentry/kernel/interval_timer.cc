#include "sentry/kernel/interval_timer.h"

#include <algorithm>
#include <climits>

#include "sentry/kernel/cpu_timer_sampler.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {
namespace {

// A periodic timer whose signal could not be queued (ignored, or its
// thread is gone) keeps running unobserved; it is not woken more often
// than this, whatever its interval.
constexpr int64_t kUnobservedMinPeriodNs = 1'000'000;

bool IsTimerSignalOf(const siginfo_t& i, int id) { return i.si_code == SI_TIMER && i.si_timerid == id; }

int64_t SaturatingAdd(int64_t a, int64_t b) {
  return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

}  // namespace

IntervalTimer::IntervalTimer(Kernel& k, std::weak_ptr<ThreadGroup> owner, int id, ClockRef clock,
                             TimerNotify notify)
    : kernel_(k), owner_(std::move(owner)), id_(id), clock_(std::move(clock)), notify_(std::move(notify)) {}

int64_t IntervalTimer::Forward(int64_t now) {
  if (interval_ <= 0 || expiry_ > now) return 0;
  const int64_t n = (now - expiry_) / interval_ + 1;
  expiry_ = n > (INT64_MAX - expiry_) / interval_ ? INT64_MAX : expiry_ + n * interval_;
  return n;
}

IntervalTimer::Setting IntervalTimer::GetLocked() {
  Setting s{0, interval_};
  if (interval_ == 0 && status_ == Status::kDisarmed && !(sig_none() && expiry_ != 0)) return s;
  if (expiry_ == 0) return s;
  ErrnoOr<int64_t> now = clock_.NowLocked();
  if (!now.ok()) return s;
  // (common_timer_get) A periodic timer waiting for its signal to be taken,
  // or one that never signals, is moved past now: time left is to the
  // next period.
  if (interval_ != 0 && status_ != Status::kArmed) overrun_ += Forward(*now);
  const int64_t left = expiry_ - *now;
  if (left > 0) {
    s.value_ns = left;
  } else if (!sig_none()) {
    // Due but not yet signalled: never report "disarmed" for it.
    s.value_ns = posix() ? 1 : 1000;
  }
  return s;
}

ErrnoOr<IntervalTimer::Setting> IntervalTimer::SetLocked(bool absolute, int64_t value, int64_t interval) {
  if (deleted_) return Errno(EINVAL);
  Setting old = GetLocked();
  StopLocked();
  DropQueuedSignalLocked();
  status_ = Status::kDisarmed;
  expiry_ = 0;
  // setitimer(2) keeps the interval of a disarmed itimer; POSIX timers do not.
  interval_ = value != 0 || !posix() ? interval : 0;
  overrun_ = -1;
  overrun_last_ = 0;
  if (value == 0) return old;
  if (!clock_.AdvancesLocked()) return Errno(ESRCH);
  ErrnoOr<int64_t> now = clock_.NowLocked();
  if (!now.ok()) return Errno(ESRCH);
  expiry_ = absolute ? value : SaturatingAdd(*now, value);
  if (expiry_ <= 0) expiry_ = 1;  // 0 means "not set"
  // SIGEV_NONE timers only count down for timer_gettime(); nothing runs.
  if (sig_none()) return old;
  status_ = Status::kArmed;
  if (expiry_ <= *now) {
    FireLocked(*now);
  } else {
    ArmLocked(*now);
  }
  return old;
}

int IntervalTimer::OverrunLocked() const {
  return static_cast<int>(std::clamp<int64_t>(overrun_last_, 0, INT_MAX));
}

void IntervalTimer::DeleteLocked() {
  StopLocked();
  DropQueuedSignalLocked();
  deleted_ = true;
  status_ = Status::kDisarmed;
}

int64_t IntervalTimer::EstimateLocked(int64_t now) const {
  return std::max<int64_t>(0, expiry_ - now) / clock_.RateLocked();
}

// status_ is kArmed and expiry_ > now: make sure something checks again.
void IntervalTimer::ArmLocked(int64_t now) {
  if (clock_.cpu) {
    kernel_.cpu_timer_sampler().AddLocked(kernel_, shared_from_this(), EstimateLocked(now));
    return;
  }
  if (service_id_ != 0) kernel_.timers().Cancel(service_id_);
  const uint64_t gen = ++gen_;
  // The host clock may not be CLOCK_MONOTONIC: wait for the difference,
  // and re-check the clock itself when the callback comes.
  const int64_t deadline = SaturatingAdd(MonotonicNowNs(), expiry_ - now);
  std::weak_ptr<IntervalTimer> self = weak_from_this();
  service_id_ = kernel_.timers().Schedule(deadline, [self, gen] {
    if (auto t = self.lock()) t->OnHostDeadline(gen);
  });
}

void IntervalTimer::StopLocked() {
  if (service_id_ != 0) kernel_.timers().Cancel(service_id_);
  service_id_ = 0;
  ++gen_;
  if (clock_.cpu) kernel_.cpu_timer_sampler().RemoveLocked(this);
}

void IntervalTimer::OnHostDeadline(uint64_t gen) {
  std::lock_guard<std::mutex> l(kernel_.mu());
  if (gen != gen_ || status_ != Status::kArmed) return;
  service_id_ = 0;
  ErrnoOr<int64_t> now = clock_.NowLocked();
  if (!now.ok()) return;
  if (*now < expiry_) {
    ArmLocked(*now);  // the clock was stepped back, or ran slower than CLOCK_MONOTONIC
    return;
  }
  FireLocked(*now);
}

int64_t IntervalTimer::SampleLocked(CpuReadCache* cache) {
  if (status_ != Status::kArmed) return -1;
  if (!clock_.AdvancesLocked()) {
    status_ = Status::kDisarmed;  // its thread or process has exited
    return -1;
  }
  ErrnoOr<int64_t> now = clock_.NowLocked(cache);
  if (!now.ok()) return -1;
  if (*now >= expiry_) FireLocked(*now);
  if (status_ != Status::kArmed) return -1;
  return EstimateLocked(*now);
}

// Due at now (status_ kArmed).
void IntervalTimer::FireLocked(int64_t now) {
  const bool queued = QueueSignalLocked();
  if (interval_ == 0) {
    status_ = Status::kDisarmed;
    StopLocked();
    return;
  }
  if (!posix()) {
    // check_cpu_itimer(): one reload per check, signal or not.
    expiry_ = SaturatingAdd(expiry_, interval_);
    ArmLocked(now);
    return;
  }
  if (queued) {
    // Reloaded when the signal is taken (OnDequeuedLocked).
    status_ = Status::kRequeuePending;
    StopLocked();
    return;
  }
  // Nobody will take a signal: keep time, quietly.
  Forward(now);
  if (!clock_.cpu) expiry_ = std::max(expiry_, SaturatingAdd(now, kUnobservedMinPeriodNs));
  ArmLocked(now);
}

void IntervalTimer::OnDequeuedLocked(siginfo_t& info) {
  if (status_ == Status::kRequeuePending && interval_ != 0 && !deleted_) {
    ErrnoOr<int64_t> now = clock_.NowLocked();
    if (now.ok()) {
      overrun_ += Forward(*now);
      status_ = Status::kArmed;
      ArmLocked(*now);
    } else {
      status_ = Status::kDisarmed;
    }
    overrun_last_ = overrun_;
    overrun_ = -1;
    info.si_overrun = OverrunLocked();
  }
}

bool IntervalTimer::QueueSignalLocked() {
  if (sig_none()) return false;
  auto owner = owner_.lock();
  if (!owner || owner->group_exiting || owner->zombie) return false;
  siginfo_t info{};
  info.si_signo = notify_.signo;
  info.si_code = notify_.code;
  if (posix()) {
    info.si_timerid = id_;
    info.si_overrun = 0;
    info.si_value = notify_.value;
  }
  if (notify_.how == SIGEV_THREAD_ID) {
    auto t = notify_.thread.lock();
    if (!t || t->internals().exited || &t->thread_group() != owner.get()) return false;
    TaskOps::SendToTaskLocked(*t, info);
    if (!posix()) return true;
    const auto& q = t->internals().pending;
    return std::any_of(q.begin(), q.end(), [&](const siginfo_t& i) { return IsTimerSignalOf(i, id_); });
  }
  TaskOps::SendToGroupLocked(*owner, info);
  if (!posix()) return true;
  const auto& q = owner->shared_pending;
  return std::any_of(q.begin(), q.end(), [&](const siginfo_t& i) { return IsTimerSignalOf(i, id_); });
}

void IntervalTimer::DropQueuedSignalLocked() {
  if (!posix()) return;
  auto owner = owner_.lock();
  if (!owner) return;
  auto drop = [&](std::deque<siginfo_t>& q) {
    q.erase(std::remove_if(q.begin(), q.end(), [&](const siginfo_t& i) { return IsTimerSignalOf(i, id_); }),
            q.end());
  };
  drop(owner->shared_pending);
  for (auto& t : owner->tasks) drop(t->internals().pending);
}

void ProcessTimers::DeleteAllLocked(bool itimers) {
  for (auto& [_, t] : posix) t->DeleteLocked();
  posix.clear();
  if (!itimers) return;
  for (auto* t : {&itimer_virtual, &itimer_prof}) {
    if (*t) (*t)->DeleteLocked();
    t->reset();
  }
}

void OnSignalDequeuedLocked(ThreadGroup& tg, siginfo_t& info) {
  if (info.si_code != SI_TIMER) return;
  if (auto t = tg.timers.FindLocked(info.si_timerid)) t->OnDequeuedLocked(info);
}

}  // namespace palisade
