#include "sentry/kernel/task.h"

#include <poll.h>
#include <time.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {

namespace {
thread_local Task* g_current_task = nullptr;
}  // namespace

Task* CurrentTask() { return g_current_task; }
void SetCurrentTask(Task* t) { g_current_task = t; }

int64_t MonotonicNowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

Task::Task(Kernel& k, std::shared_ptr<ThreadGroup> tg, int tid)
    : kernel_(k), tg_(std::move(tg)), tid_(tid), in_(std::make_unique<Internals>()) {
  in_->start_mono_ns = MonotonicNowNs();
}

Task::~Task() = default;

int Task::tgid() const { return tg_->pid(); }

Credentials Task::creds() const {
  std::lock_guard<std::mutex> l(in_->cred_mu);
  return in_->creds;
}

void Task::set_creds(const Credentials& c) {
  std::lock_guard<std::mutex> l(in_->cred_mu);
  in_->creds = c;
}

std::string Task::comm() const {
  std::lock_guard<std::mutex> l(in_->cred_mu);
  return in_->comm;
}

void Task::set_comm(std::string name) {
  if (name.size() > 15) name.resize(15);
  std::lock_guard<std::mutex> l(in_->cred_mu);
  in_->comm = std::move(name);
}

namespace {
// A signal is "interrupting" if it is pending for this task (or its group)
// and not blocked. REQUIRES: kernel mu held.
bool HasDeliverableSignalLocked(const Task& t, Task::Internals& in) {
  if (in.killed) return true;
  for (const auto& si : in.pending)
    if (!in.mask.Has(si.si_signo)) return true;
  for (const auto& si : t.thread_group().shared_pending)
    if (!in.mask.Has(si.si_signo)) return true;
  return false;
}
}  // namespace

bool Task::Interrupted() const {
  std::lock_guard<std::mutex> l(kernel_.mu());
  return HasDeliverableSignalLocked(*this, *in_);
}

Errno Task::Block(int64_t deadline, int host_fd, short host_events) {
  for (;;) {
    if (Interrupted()) return Errno(EINTR);
    struct pollfd pfds[2] = {{waiter_.fd(), POLLIN, 0}, {host_fd, host_events, 0}};
    int n = host_fd >= 0 ? 2 : 1;
    int timeout_ms = -1;
    if (deadline >= 0) {
      int64_t left = deadline - MonotonicNowNs();
      if (left <= 0) return Errno(ETIMEDOUT);
      // Round up so we never wake early and spin.
      timeout_ms = static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, 1 << 30));
    }
    int r = poll(pfds, n, timeout_ms);
    if (r < 0 && errno != EINTR) return Errno::FromHost();
    if (r > 0) {
      // Don't consume the notification here: callers Clear() when they
      // re-arm, so a wake that races with a re-check is never lost.
      if (Interrupted()) return Errno(EINTR);
      return Errno::Ok();
    }
    if (r == 0 && deadline >= 0 && MonotonicNowNs() >= deadline) return Errno(ETIMEDOUT);
  }
}

SigSet Task::signal_mask() const {
  std::lock_guard<std::mutex> l(kernel_.mu());
  return in_->mask;
}

void Task::set_signal_mask(SigSet m) {
  m.bits &= ~kUnblockableSignals;
  std::lock_guard<std::mutex> l(kernel_.mu());
  in_->mask = m;
}

void Task::set_saved_mask(SigSet m) {
  std::lock_guard<std::mutex> l(kernel_.mu());
  in_->saved_mask = m;
}

}  // namespace palisade
