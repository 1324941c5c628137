// IntervalTimer: a timer that counts a clock (ClockRef) down to an expiry
// and then signals, optionally reloading with an interval. It implements
// POSIX timers (timer_create(2)) on host and CPU clocks, and
// ITIMER_VIRTUAL / ITIMER_PROF (setitimer(2)), which are CPU timers of the
// whole process. (ITIMER_REAL stays in sys_time.cc on the TimerService.)
//
// Expiry: a host-clock timer is a TimerService callback; a CPU-clock timer
// is checked by the kernel's CpuTimerSampler (cpu_timer_sampler.h), which
// reads the clock at a coarse, adaptive tick.
//
// Signals follow Linux 6.13+: a POSIX timer queues one signal (si_code
// SI_TIMER) and, if periodic, waits with its reload until that signal is
// dequeued; the intervals that passed meanwhile are the overrun, reported
// in si_overrun and by timer_getoverrun(2). Re-arming or deleting a timer
// discards its queued signal. The itimers send SIGVTALRM/SIGPROF
// (SI_KERNEL) and reload at once, like Linux's check_cpu_itimer().
//
// Everything is guarded by Kernel::mu().
#pragma once

#include <signal.h>

#include <cstdint>
#include <map>
#include <memory>

#include "sentry/kernel/clock_ref.h"

namespace palisade {

class Kernel;
class Task;
class ThreadGroup;

struct TimerNotify {
  int how = SIGEV_SIGNAL;  // SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID
  int signo = SIGALRM;
  int code = SI_TIMER;  // SI_TIMER (POSIX timers) or SI_KERNEL (itimers)
  sigval_t value{};
  std::weak_ptr<Task> thread;  // SIGEV_THREAD_ID's target
};

class IntervalTimer : public std::enable_shared_from_this<IntervalTimer> {
 public:
  struct Setting {
    int64_t value_ns = 0;  // time left (0: disarmed)
    int64_t interval_ns = 0;
  };
  // id: the POSIX timer id (si_timerid), or -1 for an itimer.
  IntervalTimer(Kernel& k, std::weak_ptr<ThreadGroup> owner, int id, ClockRef clock, TimerNotify notify);

  int id() const { return id_; }
  const ClockRef& clock() const { return clock_; }

  // timer_gettime(2)/getitimer(2).
  Setting GetLocked();
  // timer_settime(2)/setitimer(2): value_ns 0 disarms; with absolute,
  // value_ns is a reading of the clock. Returns the previous setting.
  // ESRCH if the clock's thread or process is gone.
  ErrnoOr<Setting> SetLocked(bool absolute, int64_t value_ns, int64_t interval_ns);
  // timer_getoverrun(2): the overrun of the last delivered signal.
  int OverrunLocked() const;
  // timer_delete(2), exec and exit: disarms for good, drops its signal.
  void DeleteLocked();
  // One of this timer's signals was dequeued: report the overrun in it
  // and, if periodic, reload.
  void OnDequeuedLocked(siginfo_t& info);
  // For the CpuTimerSampler: fires a CPU timer that is due. Returns an
  // estimate of the wall time (ns) before it can next be due, or -1 once
  // the timer no longer needs checking. cache: this tick's readings.
  int64_t SampleLocked(CpuReadCache* cache);

 private:
  enum class Status { kDisarmed, kArmed, kRequeuePending };
  bool posix() const { return id_ >= 0; }
  bool sig_none() const { return notify_.how == SIGEV_NONE; }
  // Moves expiry_ past now by whole intervals; returns how many.
  int64_t Forward(int64_t now);
  void ArmLocked(int64_t now);
  void StopLocked();  // no more callbacks or sampling
  void FireLocked(int64_t now);
  bool QueueSignalLocked();
  void DropQueuedSignalLocked();
  void OnHostDeadline(uint64_t gen);
  int64_t EstimateLocked(int64_t now) const;

  Kernel& kernel_;
  const std::weak_ptr<ThreadGroup> owner_;
  const int id_;
  const ClockRef clock_;
  const TimerNotify notify_;

  Status status_ = Status::kDisarmed;
  bool deleted_ = false;
  int64_t expiry_ = 0;  // clock reading; 0: not set
  int64_t interval_ = 0;
  int64_t overrun_ = -1, overrun_last_ = 0;  // Linux's it_overrun(_last)
  uint64_t service_id_ = 0;  // host clocks: pending TimerService callback
  uint64_t gen_ = 0;         // bumped when a pending callback goes stale
};

// A process's POSIX timers and CPU itimers (ThreadGroup::timers).
struct ProcessTimers {
  std::map<int, std::shared_ptr<IntervalTimer>> posix;
  int next_id = 0;  // Linux hands out ids per process from 0, cyclically
  std::shared_ptr<IntervalTimer> itimer_virtual, itimer_prof;  // made on first use

  std::shared_ptr<IntervalTimer> FindLocked(int id) const {
    auto it = posix.find(id);
    return it == posix.end() ? nullptr : it->second;
  }
  // Deletes the POSIX timers (execve); with itimers also the CPU itimers
  // (process exit).
  void DeleteAllLocked(bool itimers);
};

// Hook for every place a thread of tg dequeues a signal: fills in a POSIX
// timer signal's overrun and reloads its timer. REQUIRES: Kernel::mu().
void OnSignalDequeuedLocked(ThreadGroup& tg, siginfo_t& info);

}  // namespace palisade
