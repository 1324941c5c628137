#include "sentry/syscalls/sys_poll_common.h"

#include <sys/resource.h>

#include <algorithm>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace palisade::sys {
namespace {

// Beyond ~30 years a deadline is "never" for our purposes (and would
// overflow int64 ns); Linux saturates the same way (timespec64_add_safe).
constexpr int64_t kMaxTimeoutSec = 1ll << 30;

}  // namespace

bool ValidTimespec(const struct timespec& ts) {
  return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < kNsPerSec;
}

PollTimeout TimeoutFromTimespec(const struct timespec& ts) {
  PollTimeout to;
  to.given = ts;
  if (ts.tv_sec == 0 && ts.tv_nsec == 0) {
    to.deadline_ns = 0;
    return to;
  }
  to.write_back = true;
  if (ts.tv_sec >= kMaxTimeoutSec) return to;  // deadline_ns stays -1
  to.deadline_ns = MonotonicNowNs() + ts.tv_sec * kNsPerSec + ts.tv_nsec;
  return to;
}

PollTimeout TimeoutFromMs(int64_t ms) {
  PollTimeout to;
  if (ms < 0) return to;
  return TimeoutFromTimespec({static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)});
}

struct timespec Remaining(const PollTimeout& to) {
  if (to.deadline_ns < 0) return to.given;  // too far to have moved
  int64_t left = std::max<int64_t>(0, to.deadline_ns - MonotonicNowNs());
  return {static_cast<time_t>(left / kNsPerSec), static_cast<long>(left % kNsPerSec)};
}

uint64_t NofileLimit(Task& t) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  return t.thread_group().rlimits[RLIMIT_NOFILE].rlim_cur;
}

ErrnoOr<std::optional<SigSet>> CopyInSigmask(Task& t, uint64_t addr, uint64_t size) {
  if (addr == 0) return std::optional<SigSet>();
  if (size != sizeof(uint64_t)) return Errno(EINVAL);
  SigSet m;
  PAL_TRY_ERRNO(t.CopyInObj(addr, m.bits));
  return std::optional<SigSet>(m);
}

TempSigmask::TempSigmask(Task& t, std::optional<SigSet> mask) : t_(t) {
  if (!mask) return;
  old_ = t.signal_mask();
  t.set_saved_mask(*old_);
  t.set_signal_mask(*mask);  // drops SIGKILL/SIGSTOP itself
}

void TempSigmask::Finish(bool interrupted) {
  if (!old_ || interrupted) return;  // the signal code restores after delivery
  t_.set_signal_mask(*old_);
}

}  // namespace palisade::sys
