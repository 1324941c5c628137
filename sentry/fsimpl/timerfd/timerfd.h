// TimerFd: the file timerfd_create(2) returns, a timer on CLOCK_REALTIME,
// CLOCK_MONOTONIC or CLOCK_BOOTTIME that counts its expirations.
//
//   PAL_TRY(auto f, TimerFd::Create(t.kernel().timers(), CLOCK_MONOTONIC, TFD_NONBLOCK));
//   f->SetTime(0, {.it_interval = {0, 1000000}, .it_value = {0, 1000000}}, &old);
//   uint8_t buf[8];
//   f->Read(t, buf);   // 8 bytes holding the expirations since the last read
//
// How it keeps time. The expiration count is computed from the host clock
// when it is looked at (read, poll, gettime), as Linux's hrtimer_forward
// does: no ticking thread per timer. Only the wake-up of sleepers needs a
// callback, so the file schedules one in the kernel's TimerService (which
// runs on CLOCK_MONOTONIC; REALTIME/BOOTTIME deadlines are converted by the
// current offset between the clocks) at the next expiry, notifies its wait
// queue when it runs, and, like Linux's timerfd_tmrproc, does not re-arm
// itself: a periodic timer re-arms its callback when a read consumes the
// expirations. A timer nobody reads therefore costs nothing.
//
// The callback holds a weak reference and a generation number, so a file
// that died or was re-armed makes it a no-op.
//
// Rules (timerfd_create(2)): reads need 8 bytes (EINVAL), return the count
// as a uint64_t and reset it; EAGAIN when it is 0. Writes: EINVAL. Readable
// (POLLIN) while the count is > 0. TFD_TIMER_CANCEL_ON_SET is accepted but
// never fires: nothing in the sandbox can set CLOCK_REALTIME (EPERM).
// Thread-safe.
#pragma once

#include <time.h>

#include <cstdint>
#include <memory>
#include <mutex>

#include "sentry/vfs/file_description.h"

namespace palisade {

class TimerService;

class TimerFd final : public FileDescription {
 public:
  // clock: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME (the caller
  // validated it); flags: TFD_NONBLOCK (TFD_CLOEXEC is the fd table's).
  static std::shared_ptr<TimerFd> Create(TimerService& timers, int clock, int flags);

  // timerfd_settime(2): flags TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET;
  // value already validated (tv_nsec in range, tv_sec >= 0). Writes the
  // previous setting to *old. Resets the expiration count.
  void SetTime(int flags, const struct itimerspec& value, struct itimerspec* old);
  // timerfd_gettime(2): time to the next expiry (0 if disarmed) and the
  // interval.
  struct itimerspec GetTime();

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override { return Errno(EINVAL); }
  ErrnoOr<struct stat> Stat(Task& t) override;
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override { queue_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { queue_.Unregister(w); }
  std::string DisplayName() const override { return "anon_inode:[timerfd]"; }

  int clock() const { return clock_; }

 private:
  TimerFd(TimerService& timers, int clock, int flags);
  int64_t NowLocked() const;
  // Folds expiries up to now into ticks_ and moves next_ past now.
  void ForwardLocked(int64_t now);
  // Schedules the wake-up callback for next_ (if armed).
  void ScheduleLocked(int64_t now);

  TimerService& timers_;
  const int clock_;
  WaitQueue queue_;
  std::mutex mu_;
  int64_t next_ = 0;      // next expiry on clock_, ns; 0 = disarmed
  int64_t interval_ = 0;  // ns; 0 = one-shot
  uint64_t ticks_ = 0;    // expirations not yet read
  uint64_t gen_ = 0;      // bumped by SetTime: stale callbacks do nothing
  uint64_t callback_id_ = 0;
};

}  // namespace palisade
