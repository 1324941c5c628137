#include "sentry/kernel/timer_service.h"

#include "sentry/kernel/task.h"

namespace palisade {

TimerService::TimerService() : thread_([this] { Loop(); }) {}

TimerService::~TimerService() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t TimerService::Schedule(int64_t deadline, std::function<void()> fn) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t id = next_id_++;
  timers_.emplace(deadline, std::make_pair(id, std::move(fn)));
  cv_.notify_all();
  return id;
}

bool TimerService::Cancel(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return true;
    }
  }
  return false;
}

void TimerService::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (timers_.empty()) {
      cv_.wait(l);
      continue;
    }
    int64_t now = MonotonicNowNs();
    auto it = timers_.begin();
    if (it->first > now) {
      cv_.wait_for(l, std::chrono::nanoseconds(it->first - now));
      continue;
    }
    auto fn = std::move(it->second.second);
    timers_.erase(it);
    l.unlock();
    fn();
    l.lock();
  }
}

}  // namespace palisade
