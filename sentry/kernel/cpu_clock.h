// CPU-time accounting. An application thread's CPU time has two parts,
// both measured by the host kernel:
//   user   = host CPU time of the platform vehicle that runs the thread's
//            machine code (the stub process: Context::HostCpuTimeNs()),
//   system = host CPU time of the task's sentry host thread, which serves
//            its syscalls, faults and signals (the work Linux would do in
//            kernel mode for it).
// Readings are taken on demand (getrusage, clock_gettime, the CPU-timer
// sampler); nothing is charged per event, so the syscall path pays nothing.
// docs/compatibility-notes.md ("CPU time") explains what this measures.
#pragma once

#include <time.h>

#include <cstdint>
#include <mutex>

#include "platform/platform.h"

namespace palisade {

class Task;
class ThreadGroup;

struct CpuTimes {
  int64_t user_ns = 0;
  int64_t sys_ns = 0;
  int64_t total() const { return user_ns + sys_ns; }
  CpuTimes& operator+=(const CpuTimes& o) {
    user_ns += o.user_ns;
    sys_ns += o.sys_ns;
    return *this;
  }
};

// One task's clock (Task::Internals::cpu). Thread-safe; its mutex is a
// leaf (taken under Kernel::mu() by the readers that sum a process).
class TaskCpuClock {
 public:
  // On the task's own host thread, once its Context exists: starts
  // counting from the vehicle's and this thread's current CPU times.
  void Attach(const platform::Context* ctx);
  // On the task's own host thread while the Context still exists and the
  // app is not running: takes a last reading and freezes the clock (later
  // reads return it). Returns that final reading.
  CpuTimes Detach();
  // Current usage, from any thread. Never decreases.
  CpuTimes Read();

 private:
  std::mutex mu_;
  const platform::Context* ctx_ = nullptr;  // null: not attached (or detached)
  clockid_t sentry_clock_{};                // the task's sentry thread's CPU clock
  int64_t vehicle_base_ns_ = 0, sentry_base_ns_ = 0;
  CpuTimes last_;
  void SampleLocked();
};

// Process CPU time: live threads plus the threads that exited.
// REQUIRES: Kernel::mu() held.
CpuTimes ProcessCpuTimesLocked(ThreadGroup& tg);

// Host CPU time of the calling host thread, ns.
int64_t ThisThreadCpuNs();

}  // namespace palisade
