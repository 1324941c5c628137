#include "platform/systrap/process_pool.h"

#include <sys/prctl.h>

#include "spdlog/spdlog.h"

namespace palisade::platform {

ProcessPool::~ProcessPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (filler_.joinable()) filler_.join();
}

std::shared_ptr<SystrapProcess> ProcessPool::Take() {
  std::shared_ptr<SystrapProcess> c;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!spares_.empty()) {
      c = std::move(spares_.back());
      spares_.pop_back();
    }
    wanted_ = true;
    if (!filler_.joinable() && !stop_) filler_ = std::thread([this] { FillLoop(); });
  }
  cv_.notify_all();
  // A spare whose stub died meanwhile (killed from outside) is no use.
  if (c && c->Exited()) c.reset();
  return c;
}

void ProcessPool::FillLoop() {
  prctl(PR_SET_NAME, "systrap-pool", 0, 0, 0);
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stop_ || (wanted_ && spares_.size() < kSpares); });
    if (stop_) break;
    l.unlock();
    absl::StatusOr<std::shared_ptr<SystrapProcess>> c = make_();
    l.lock();
    if (!c.ok()) {
      spdlog::debug("systrap: no spare process: {}", c.status().ToString());
      wanted_ = false;  // until the next Take()
      continue;
    }
    spares_.push_back(std::move(*c));
  }
  spares_.clear();
}

}  // namespace palisade::platform
