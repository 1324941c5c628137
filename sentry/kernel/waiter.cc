#include "sentry/kernel/waiter.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace palisade {

Waiter::Waiter() : efd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!efd_.ok()) abort();  // out of host fds: the sentry cannot run on.
}

void Waiter::Notify() {
  uint64_t one = 1;
  // EAGAIN only if the counter would overflow, i.e. already notified.
  (void)!write(efd_.get(), &one, sizeof(one));
}

void Waiter::Clear() {
  uint64_t v;
  (void)!read(efd_.get(), &v, sizeof(v));
}

void Waiter::WaitFor(int timeout_ms) {
  struct pollfd p = {efd_.get(), POLLIN, 0};
  (void)poll(&p, 1, timeout_ms);
  Clear();
}

void WaitQueue::Register(Waiter* w, uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  entries_.push_back({w, mask});
}

void WaitQueue::Unregister(Waiter* w) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(), [w](const Entry& e) { return e.waiter == w; });
  if (it != entries_.end()) entries_.erase(it);
}

void WaitQueue::Notify(uint32_t events) {
  std::lock_guard<std::mutex> l(mu_);
  for (const Entry& e : entries_) {
    if (e.mask & events) e.waiter->Notify();
  }
}

bool WaitQueue::empty() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.empty();
}

}  // namespace palisade
