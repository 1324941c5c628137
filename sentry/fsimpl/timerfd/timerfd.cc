#include "sentry/fsimpl/timerfd/timerfd.h"

#include <sys/timerfd.h>

#include <cstring>

#include "sentry/fsimpl/anon/anon_inode.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timer_service.h"

namespace palisade {
namespace {

constexpr int64_t kNs = 1000000000;

int64_t ClockNow(int clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * kNs + ts.tv_nsec;
}

int64_t ToNs(const struct timespec& ts) {
  // Saturate instead of overflowing on absurd values (tv_sec near INT64_MAX).
  if (ts.tv_sec > (INT64_MAX - ts.tv_nsec) / kNs) return INT64_MAX;
  return ts.tv_sec * kNs + ts.tv_nsec;
}

struct timespec ToTimespec(int64_t ns) { return {ns / kNs, ns % kNs}; }

}  // namespace

std::shared_ptr<TimerFd> TimerFd::Create(TimerService& timers, int clock, int flags) {
  return std::shared_ptr<TimerFd>(new TimerFd(timers, clock, flags));
}

TimerFd::TimerFd(TimerService& timers, int clock, int flags)
    : FileDescription(O_RDWR | (flags & TFD_NONBLOCK ? O_NONBLOCK : 0)), timers_(timers), clock_(clock) {}

int64_t TimerFd::NowLocked() const { return ClockNow(clock_); }

void TimerFd::ForwardLocked(int64_t now) {
  if (next_ == 0 || now < next_) return;
  if (interval_ == 0) {
    ticks_ += 1;
    next_ = 0;
    return;
  }
  uint64_t n = 1 + static_cast<uint64_t>((now - next_) / interval_);
  ticks_ += n;
  // Past INT64_MAX the timer would never fire again anyway.
  __int128 nx = static_cast<__int128>(next_) + static_cast<__int128>(n) * interval_;
  next_ = nx > INT64_MAX ? INT64_MAX : static_cast<int64_t>(nx);
}

void TimerFd::ScheduleLocked(int64_t now) {
  if (callback_id_) {
    timers_.Cancel(callback_id_);
    callback_id_ = 0;
  }
  if (next_ == 0) return;
  int64_t delta = next_ - now;  // on our clock; the same span on MONOTONIC
  int64_t mono = MonotonicNowNs();
  int64_t deadline = delta > INT64_MAX - mono ? INT64_MAX : mono + std::max<int64_t>(delta, 0);
  std::weak_ptr<FileDescription> weak = weak_from_this();
  uint64_t gen = gen_;
  callback_id_ = timers_.Schedule(deadline, [weak, gen] {
    auto self = std::static_pointer_cast<TimerFd>(weak.lock());
    if (!self) return;
    bool fire;
    {
      std::lock_guard<std::mutex> l(self->mu_);
      if (self->gen_ != gen) return;
      self->callback_id_ = 0;
      int64_t now = self->NowLocked();
      if (self->next_ != 0 && now < self->next_) {
        // Early (REALTIME/BOOTTIME drift against MONOTONIC): try again.
        self->ScheduleLocked(now);
        return;
      }
      self->ForwardLocked(now);
      fire = self->ticks_ > 0;
    }
    if (fire) self->queue_.Notify(POLLIN | POLLRDNORM);
  });
}

void TimerFd::SetTime(int flags, const struct itimerspec& value, struct itimerspec* old) {
  std::lock_guard<std::mutex> l(mu_);
  int64_t now = NowLocked();
  ForwardLocked(now);
  if (old) {
    old->it_interval = ToTimespec(interval_);
    old->it_value = ToTimespec(next_ == 0 ? 0 : next_ - now);
  }
  gen_++;
  ticks_ = 0;
  interval_ = ToNs(value.it_interval);
  int64_t v = ToNs(value.it_value);
  if (v == 0) {
    next_ = 0;  // disarm
  } else if (flags & TFD_TIMER_ABSTIME) {
    // An absolute time already past expires at once (one tick).
    next_ = v;
  } else {
    next_ = v > INT64_MAX - now ? INT64_MAX : now + v;
  }
  ScheduleLocked(now);
}

struct itimerspec TimerFd::GetTime() {
  std::lock_guard<std::mutex> l(mu_);
  int64_t now = NowLocked();
  ForwardLocked(now);
  struct itimerspec cur {};
  cur.it_interval = ToTimespec(interval_);
  if (next_ != 0) cur.it_value = ToTimespec(std::max<int64_t>(next_ - now, 1));
  return cur;
}

ErrnoOr<int64_t> TimerFd::Read(Task& t, std::span<uint8_t> dst) {
  if (dst.size() < sizeof(uint64_t)) return Errno(EINVAL);
  uint64_t v;
  {
    std::lock_guard<std::mutex> l(mu_);
    int64_t now = NowLocked();
    ForwardLocked(now);
    if (ticks_ == 0) return Errno(EAGAIN);
    v = ticks_;
    ticks_ = 0;
    // A periodic timer's wake-up callback is re-armed only now (see header).
    if (next_ != 0 && callback_id_ == 0) ScheduleLocked(now);
  }
  memcpy(dst.data(), &v, sizeof(v));
  return int64_t{sizeof(uint64_t)};
}

ErrnoOr<struct stat> TimerFd::Stat(Task& t) { return AnonInodeStat(); }

uint32_t TimerFd::Readiness(uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  ForwardLocked(NowLocked());
  return (ticks_ > 0 ? POLLIN | POLLRDNORM : 0) & mask;
}

}  // namespace palisade
