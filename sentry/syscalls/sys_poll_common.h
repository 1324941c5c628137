// What poll, ppoll, select, pselect6 and the epoll waits share: timeouts
// (deadlines and the remaining-time write-back of poll_select_finish) and
// the temporary signal mask of ppoll/pselect6/epoll_pwait/epoll_pwait2.
//
// The temporary-mask contract with the signal code (task_signals.cc):
//   TempSigmask m(t, mask);   // saved mask := current; mask := temporary
//   ... wait ...
//   m.Finish(interrupted);
// If the call was interrupted (it returns EINTR/ERESTARTNOHAND), the
// temporary mask stays in force until the signal code delivers the signal:
// the handler's frame records the saved mask, so sigreturn restores it,
// and with no handler the signal code restores it at syscall exit (both
// then drop the saved mask). Otherwise Finish() puts the old mask back at
// once, so a signal that only the temporary mask let through stays
// pending, as Linux's restore_saved_sigmask_unless(false) does; the saved
// mask then equals the current one, and the signal code's later restore
// is a no-op.
#pragma once

#include <time.h>

#include <cstdint>
#include <optional>

#include "base/errno.h"
#include "sentry/kernel/signal_types.h"

namespace palisade {
class Task;
}

namespace palisade::sys {

inline constexpr int64_t kNsPerSec = 1000000000;

// A syscall's timeout as a CLOCK_MONOTONIC deadline.
struct PollTimeout {
  int64_t deadline_ns = -1;  // -1: none; 0: do not sleep; else when to stop
  // A non-zero timeout was given: remaining time is written back
  // (poll_select_finish skips zero timeouts and absent ones).
  bool write_back = false;
  struct timespec given {};  // as given, for deadlines too far to represent
};

// Relative timeouts: a {sec, nsec} that the caller validated; ms < 0 for
// poll/epoll_wait means none.
PollTimeout TimeoutFromTimespec(const struct timespec& ts);
PollTimeout TimeoutFromMs(int64_t ms);
bool ValidTimespec(const struct timespec& ts);
// Time left until the deadline (0 once passed), for the write-back.
struct timespec Remaining(const PollTimeout& to);

// The limit on poll()'s nfds: the caller's RLIMIT_NOFILE (soft), as Linux.
uint64_t NofileLimit(Task& t);

// Reads the sigmask argument (sigsetsize must be 8: EINVAL; EFAULT).
// addr 0 means no mask: returns nullopt.
ErrnoOr<std::optional<SigSet>> CopyInSigmask(Task& t, uint64_t addr, uint64_t size);

class TempSigmask {
 public:
  // Installs mask (if given) for the rest of the syscall; see above.
  TempSigmask(Task& t, std::optional<SigSet> mask);
  // Ends it; interrupted = the call returns EINTR or ERESTARTNOHAND.
  void Finish(bool interrupted);

 private:
  Task& t_;
  std::optional<SigSet> old_;
};

}  // namespace palisade::sys
