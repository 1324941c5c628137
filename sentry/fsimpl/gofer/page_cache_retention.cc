#include "sentry/fsimpl/gofer/page_cache_retention.h"

#include <list>
#include <mutex>

namespace palisade::gofer {
namespace {

struct Retention {
  std::mutex mu;
  int64_t budget = kDefaultPageCacheRetention;  // guarded by mu
  std::list<std::shared_ptr<FileMemory>> lru;   // guarded by mu; most recent first
};

Retention& Get() {
  static Retention* r = new Retention;  // never destroyed: used until exit
  return *r;
}

int64_t BytesOf(const FileMemory& fm) { return const_cast<FileMemory&>(fm).Pages() * FileMemory::kPageSize; }

// Sizes grow as pages are read in, so they are summed afresh each time
// (a few dozen entries at most). REQUIRES: r.mu held.
int64_t TotalLocked(const Retention& r) {
  int64_t total = 0;
  for (const auto& fm : r.lru) total += BytesOf(*fm);
  return total;
}

}  // namespace

void SetPageCacheRetention(int64_t bytes) {
  Retention& r = Get();
  std::lock_guard<std::mutex> l(r.mu);
  r.budget = bytes < 0 ? kDefaultPageCacheRetention : bytes;
}

void RetainPageCache(const std::shared_ptr<FileMemory>& cache) {
  if (!cache) return;
  Retention& r = Get();
  std::list<std::shared_ptr<FileMemory>> evicted;  // freed after the lock
  std::lock_guard<std::mutex> l(r.mu);
  for (auto it = r.lru.begin(); it != r.lru.end(); ++it) {
    if (*it == cache) {
      r.lru.splice(r.lru.begin(), r.lru, it);
      break;
    }
  }
  if (r.lru.empty() || r.lru.front() != cache) r.lru.push_front(cache);
  int64_t total = TotalLocked(r);
  while (!r.lru.empty() && total > r.budget) {
    total -= BytesOf(*r.lru.back());
    evicted.splice(evicted.begin(), r.lru, std::prev(r.lru.end()));
  }
}

int64_t RetainedPageCacheBytes() {
  Retention& r = Get();
  std::lock_guard<std::mutex> l(r.mu);
  return TotalLocked(r);
}

}  // namespace palisade::gofer
