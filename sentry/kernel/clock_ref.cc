#include "sentry/kernel/clock_ref.h"

#include "sentry/kernel/cpu_clock.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {
namespace {

constexpr int kPerThread = 4;
constexpr int kWhichMask = 3;

int64_t Pick(const CpuTimes& c, CpuClockKind k) { return k == CpuClockKind::kVirt ? c.user_ns : c.total(); }

}  // namespace

ErrnoOr<int64_t> ClockRef::NowLocked(CpuReadCache* cache) const {
  if (!cpu) {
    struct timespec ts;
    if (clock_gettime(host, &ts) != 0) return Errno::FromHost();
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
  }
  auto read = [&](const void* key, auto&& fn) {
    if (cache == nullptr) return fn();
    auto it = cache->find(key);
    if (it == cache->end()) it = cache->emplace(key, fn()).first;
    return it->second;
  };
  if (auto t = thread.lock()) {
    if (t->internals().exited) return Errno(EINVAL);
    return Pick(read(t.get(), [&] { return t->internals().cpu.Read(); }), kind);
  }
  if (auto p = process.lock()) {
    // A zombie keeps its final times until it is reaped.
    return Pick(read(p.get(), [&] { return ProcessCpuTimesLocked(*p); }), kind);
  }
  return Errno(EINVAL);
}

bool ClockRef::AdvancesLocked() const {
  if (!cpu) return true;
  if (auto t = thread.lock()) return !t->internals().exited;
  if (auto p = process.lock()) return !p->zombie;
  return false;
}

int ClockRef::RateLocked() const {
  if (!cpu) return 1;
  if (auto p = process.lock()) return std::max<int>(1, static_cast<int>(p->tasks.size()));
  return 1;
}

ErrnoOr<ClockRef> ResolveClockLocked(Task& t, clockid_t id) {
  ClockRef c;
  switch (id) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM: case CLOCK_TAI:
      c.host = id;
      return c;
    case CLOCK_PROCESS_CPUTIME_ID:
      c.cpu = true;
      c.process = t.thread_group_ref();
      return c;
    case CLOCK_THREAD_CPUTIME_ID:
      c.cpu = true;
      c.thread = t.shared_from_this();
      return c;
    default:
      break;
  }
  if (id >= 0) return Errno(EINVAL);
  // Linux's CPUCLOCK_PID / CPUCLOCK_PERTHREAD / CPUCLOCK_WHICH.
  const int pid = static_cast<int>(~static_cast<unsigned>(id) >> 3);
  const bool per_thread = (id & kPerThread) != 0;
  const int which = id & kWhichMask;
  if (which > static_cast<int>(CpuClockKind::kSched)) return Errno(EINVAL);
  c.cpu = true;
  c.kind = static_cast<CpuClockKind>(which);
  if (per_thread) {
    // Only threads of the caller's own process (pid_for_clock()).
    std::shared_ptr<Task> target = pid == 0 ? t.shared_from_this() : t.kernel().TaskByTidLocked(pid);
    if (!target || &target->thread_group() != &t.thread_group()) return Errno(EINVAL);
    c.thread = target;
    return c;
  }
  if (pid == 0 || pid == t.tid()) {
    // Linux also accepts the caller's own tid for a process clock.
    c.process = t.thread_group_ref();
    return c;
  }
  // The pid must name a process (a zombie too, until reaped), not a thread.
  for (auto& g : t.kernel().ThreadGroupsLocked()) {
    if (g->pid() == pid) {
      c.process = g;
      return c;
    }
  }
  return Errno(EINVAL);
}

}  // namespace palisade
