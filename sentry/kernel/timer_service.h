// TimerService: one sentry thread that runs callbacks at CLOCK_MONOTONIC
// deadlines (alarm, setitimer). Callbacks run on the timer thread without
// any TimerService lock held, so they may take Kernel::mu().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace palisade {

class TimerService {
 public:
  TimerService();
  ~TimerService();
  // Returns an id for Cancel(). fn runs once at deadline.
  uint64_t Schedule(int64_t deadline_mono_ns, std::function<void()> fn);
  // True if the timer was pending (and now won't run).
  bool Cancel(uint64_t id);

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<int64_t, std::pair<uint64_t, std::function<void()>>> timers_;
  uint64_t next_id_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace palisade
