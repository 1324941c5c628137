#include "sentry/kernel/cpu_clock.h"

#include <pthread.h>

#include <algorithm>

#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {
namespace {

constexpr int64_t kNs = 1000000000;

bool ReadClock(clockid_t c, int64_t* ns) {
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) return false;
  *ns = int64_t{ts.tv_sec} * kNs + ts.tv_nsec;
  return true;
}

}  // namespace

int64_t ThisThreadCpuNs() {
  int64_t ns = 0;
  ReadClock(CLOCK_THREAD_CPUTIME_ID, &ns);
  return ns;
}

void TaskCpuClock::Attach(const platform::Context* ctx) {
  std::lock_guard<std::mutex> l(mu_);
  if (pthread_getcpuclockid(pthread_self(), &sentry_clock_) != 0) return;
  ErrnoOr<int64_t> v = ctx->HostCpuTimeNs();
  if (!v.ok() || !ReadClock(sentry_clock_, &sentry_base_ns_)) return;
  // Continue from what was counted before (a task attaches once today;
  // a re-attach after a vehicle change must not go backwards).
  vehicle_base_ns_ = *v - last_.user_ns;
  sentry_base_ns_ -= ctx->SentrySpinNs() + last_.sys_ns;
  ctx_ = ctx;
}

void TaskCpuClock::SampleLocked() {
  if (ctx_ == nullptr) return;
  ErrnoOr<int64_t> v = ctx_->HostCpuTimeNs();
  if (v.ok()) last_.user_ns = std::max(last_.user_ns, *v - vehicle_base_ns_);
  int64_t s;
  // Spinning for the app's next event is not work for it (the app was
  // running, and its vehicle's time counts that); in wall time, which can
  // exceed the CPU it took, hence the max().
  if (ReadClock(sentry_clock_, &s)) {
    last_.sys_ns = std::max(last_.sys_ns, s - ctx_->SentrySpinNs() - sentry_base_ns_);
  }
}

CpuTimes TaskCpuClock::Detach() {
  std::lock_guard<std::mutex> l(mu_);
  SampleLocked();
  ctx_ = nullptr;
  return last_;
}

CpuTimes TaskCpuClock::Read() {
  std::lock_guard<std::mutex> l(mu_);
  SampleLocked();
  return last_;
}

CpuTimes ProcessCpuTimesLocked(ThreadGroup& tg) {
  CpuTimes sum = tg.exited_threads_cpu;
  for (auto& t : tg.tasks) sum += t->internals().cpu.Read();
  return sum;
}

}  // namespace palisade
