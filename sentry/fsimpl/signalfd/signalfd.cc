#include "sentry/fsimpl/signalfd/signalfd.h"

#include <sys/signalfd.h>

#include <algorithm>
#include <cstring>

#include "sentry/fsimpl/anon/anon_inode.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {
namespace {

// Takes the first pending signal in `mask` (thread queue first, then the
// process's, as dequeue_signal). REQUIRES: Kernel::mu() held.
bool DequeueLocked(Task& t, SigSet mask, siginfo_t* out) {
  auto take = [&](std::deque<siginfo_t>& q) {
    for (auto it = q.begin(); it != q.end(); ++it) {
      if (mask.Has(it->si_signo)) {
        *out = *it;
        q.erase(it);
        return true;
      }
    }
    return false;
  };
  if (!take(t.internals().pending) && !take(t.thread_group().shared_pending)) return false;
  OnSignalDequeuedLocked(t.thread_group(), *out);  // a POSIX timer's overrun
  return true;
}

bool AnyPendingLocked(Task& t, SigSet mask) {
  auto any = [&](const std::deque<siginfo_t>& q) {
    return std::any_of(q.begin(), q.end(), [&](const siginfo_t& i) { return mask.Has(i.si_signo); });
  };
  return any(t.internals().pending) || any(t.thread_group().shared_pending);
}

// signalfd_copyinfo(): which fields are meaningful follows si_code.
struct signalfd_siginfo ToRecord(const siginfo_t& i) {
  struct signalfd_siginfo r {};
  r.ssi_signo = static_cast<uint32_t>(i.si_signo);
  r.ssi_errno = i.si_errno;
  r.ssi_code = i.si_code;
  int sig = i.si_signo;
  if (i.si_code == SI_TIMER) {
    r.ssi_tid = static_cast<uint32_t>(i.si_timerid);
    r.ssi_overrun = static_cast<uint32_t>(i.si_overrun);
    r.ssi_int = i.si_int;
    r.ssi_ptr = reinterpret_cast<uint64_t>(i.si_ptr);
  } else if (i.si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
                               sig == SIGTRAP)) {
    r.ssi_addr = reinterpret_cast<uint64_t>(i.si_addr);
  } else if (i.si_code > 0 && sig == SIGCHLD) {
    r.ssi_pid = static_cast<uint32_t>(i.si_pid);
    r.ssi_uid = i.si_uid;
    r.ssi_status = i.si_status;
    r.ssi_utime = static_cast<uint64_t>(i.si_utime);
    r.ssi_stime = static_cast<uint64_t>(i.si_stime);
  } else if (i.si_code > 0 && (sig == SIGPOLL)) {
    r.ssi_band = static_cast<uint32_t>(i.si_band);
    r.ssi_fd = i.si_fd;
  } else {
    // kill, tgkill, sigqueue, kernel-generated: sender and value.
    r.ssi_pid = static_cast<uint32_t>(i.si_pid);
    r.ssi_uid = i.si_uid;
    if (i.si_code == SI_QUEUE || i.si_code == SI_MESGQ) {
      r.ssi_int = i.si_int;
      r.ssi_ptr = reinterpret_cast<uint64_t>(i.si_ptr);
    }
  }
  return r;
}

}  // namespace

SignalFd::SignalFd(SigSet mask, int flags)
    : FileDescription(O_RDWR | (flags & SFD_NONBLOCK ? O_NONBLOCK : 0)) {
  set_mask(mask);
}

SignalFd::~SignalFd() {
  // Queues outlive the file (they are the thread groups'): leave none
  // pointing at a waiter registered through us.
  for (const Registration& r : regs_) {
    if (auto tg = r.tg.lock()) tg->signalfd_queue.Unregister(r.waiter);
  }
}

SigSet SignalFd::mask() const {
  std::lock_guard<std::mutex> l(mu_);
  return mask_;
}

void SignalFd::set_mask(SigSet m) {
  m.bits &= ~kUnblockableSignals;
  std::lock_guard<std::mutex> l(mu_);
  mask_ = m;
}

ErrnoOr<int64_t> SignalFd::Read(Task& t, std::span<uint8_t> dst) {
  constexpr size_t kRec = sizeof(struct signalfd_siginfo);
  if (dst.size() < kRec) return Errno(EINVAL);
  SigSet m = mask();
  size_t n = 0;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    siginfo_t info;
    while (n + kRec <= dst.size() && DequeueLocked(t, m, &info)) {
      struct signalfd_siginfo r = ToRecord(info);
      memcpy(dst.data() + n, &r, kRec);
      n += kRec;
    }
  }
  if (n == 0) return Errno(EAGAIN);
  return static_cast<int64_t>(n);
}

ErrnoOr<struct stat> SignalFd::Stat(Task& t) { return AnonInodeStat(); }

uint32_t SignalFd::Readiness(uint32_t mask) {
  Task* t = CurrentTask();
  if (!t || !(mask & (POLLIN | POLLRDNORM))) return 0;
  SigSet m = this->mask();
  std::lock_guard<std::mutex> l(t->kernel().mu());
  return AnyPendingLocked(*t, m) ? (POLLIN | POLLRDNORM) & mask : 0;
}

void SignalFd::EventRegister(Waiter* w, uint32_t mask) {
  Task* t = CurrentTask();
  if (!t) return;
  std::shared_ptr<ThreadGroup> tg = t->thread_group_ref();
  tg->signalfd_queue.Register(w, mask);
  std::lock_guard<std::mutex> l(mu_);
  regs_.push_back({w, tg});
}

void SignalFd::EventUnregister(Waiter* w) {
  std::shared_ptr<ThreadGroup> tg;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = std::find_if(regs_.begin(), regs_.end(), [w](const Registration& r) { return r.waiter == w; });
    if (it == regs_.end()) return;
    tg = it->tg.lock();
    regs_.erase(it);
  }
  if (tg) tg->signalfd_queue.Unregister(w);
}

}  // namespace palisade
