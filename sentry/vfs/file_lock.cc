#include "sentry/vfs/file_lock.h"

#include <fcntl.h>

#include <algorithm>

namespace palisade::vfs {

namespace {

bool Overlaps(int64_t s1, int64_t e1, int64_t s2, int64_t e2) { return s1 <= e2 && s2 <= e1; }

}  // namespace

FileLocks& FileLocks::Global() {
  static FileLocks* locks = new FileLocks();  // never destroyed: used until the sentry exits
  return *locks;
}

bool FileLocks::Any() {
  std::lock_guard<std::mutex> l(mu_);
  return !locks_.empty();
}

std::optional<FileLocks::Conflict> FileLocks::Test(const Key& k, const void* owner, int type, int64_t start,
                                                   int64_t end) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = locks_.find(k);
  if (it == locks_.end()) return std::nullopt;
  for (const Lock& lk : it->second) {
    if (lk.owner == owner || lk.alive.expired()) continue;
    if ((type == F_WRLCK || lk.type == F_WRLCK) && Overlaps(start, end, lk.start, lk.end)) {
      return Conflict{lk.type, lk.start, lk.end, lk.pid};
    }
  }
  return std::nullopt;
}

Errno FileLocks::Set(const Key& k, const Owner& owner, int type, int64_t start, int64_t end) {
  bool released = false;
  Errno e;
  {
    std::lock_guard<std::mutex> l(mu_);
    const void* blocker = nullptr;
    e = SetLocked(k, owner, type, start, end, &released, &blocker);
  }
  if (released) changed_.Notify(kEventAll);
  return e;
}

Errno FileLocks::SetOrWait(const Key& k, const Owner& owner, int type, int64_t start, int64_t end,
                           const void* waiter, bool posix) {
  bool released = false;
  Errno e;
  {
    std::lock_guard<std::mutex> l(mu_);
    const void* blocker = nullptr;
    e = SetLocked(k, owner, type, start, end, &released, &blocker);
    if (e == Errno(EAGAIN) && posix) {
      // OFD waiters take no part in deadlock detection, either side.
      if (WouldDeadlockLocked(owner.id, blocker)) {
        waits_.erase(waiter);
        e = Errno(EDEADLK);
      } else {
        waits_[waiter] = Wait{owner.id, blocker};
      }
    } else {
      waits_.erase(waiter);
    }
  }
  if (released) changed_.Notify(kEventAll);
  return e;
}

void FileLocks::StopWaiting(const void* waiter) {
  std::lock_guard<std::mutex> l(mu_);
  waits_.erase(waiter);
}

bool FileLocks::WouldDeadlockLocked(const void* owner, const void* blocker) const {
  // Follow "the owner of the lock I wait for waits for ..." a bounded
  // number of steps (Linux's MAX_DEADLK_ITERATIONS), as cycles not
  // through the caller are someone else's deadlock.
  constexpr int kMaxSteps = 10;
  for (int i = 0; i <= kMaxSteps; i++) {
    const Wait* next = nullptr;
    for (const auto& [w, wait] : waits_) {
      if (wait.owner == blocker) {
        next = &wait;
        break;
      }
    }
    if (!next) return false;
    if (next->blocker == owner) return true;
    blocker = next->blocker;
  }
  return false;
}

Errno FileLocks::SetLocked(const Key& k, const Owner& owner, int type, int64_t start, int64_t end,
                           bool* released_out, const void** blocker) {
  bool& released = *released_out;
  {
    std::vector<Lock>& v = locks_[k];
    // Locks of owners that are gone never count again.
    v.erase(std::remove_if(v.begin(), v.end(), [](const Lock& lk) { return lk.alive.expired(); }), v.end());
    if (type != F_UNLCK) {
      for (const Lock& lk : v) {
        if (lk.owner != owner.id && (type == F_WRLCK || lk.type == F_WRLCK) &&
            Overlaps(start, end, lk.start, lk.end)) {
          *blocker = lk.owner;
          return Errno(EAGAIN);
        }
      }
    }
    // Cut [start, end] out of the owner's own locks (keeping the parts
    // either side), then add the new one: this converts, splits, unlocks.
    std::vector<Lock> kept;
    for (Lock& lk : v) {
      if (lk.owner != owner.id || !Overlaps(start, end, lk.start, lk.end)) {
        kept.push_back(std::move(lk));
        continue;
      }
      released = true;
      if (lk.start < start) {
        Lock left = lk;
        left.end = start - 1;
        kept.push_back(left);
      }
      if (end != kEof && lk.end > end) {
        Lock right = lk;
        right.start = end + 1;
        kept.push_back(right);
      }
    }
    if (type != F_UNLCK) {
      // Like Linux, coalesce with the owner's adjacent locks of the same
      // type, so F_GETLK reports one range.
      Lock n{owner.id, owner.alive, owner.pid, type, start, end};
      std::vector<Lock> merged;
      for (Lock& lk : kept) {
        bool adjacent = (lk.end != kEof && lk.end + 1 == n.start) || (n.end != kEof && n.end + 1 == lk.start);
        if (lk.owner == owner.id && lk.type == type && adjacent) {
          n.start = std::min(n.start, lk.start);
          n.end = std::max(n.end, lk.end);
          continue;
        }
        merged.push_back(std::move(lk));
      }
      merged.push_back(std::move(n));
      kept = std::move(merged);
    }
    if (kept.empty()) {
      locks_.erase(k);
    } else {
      v = std::move(kept);
    }
  }
  return Errno::Ok();
}

void FileLocks::ReleaseAll(const Key& k, const void* owner) {
  bool released = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = locks_.find(k);
    if (it == locks_.end()) return;
    std::vector<Lock>& v = it->second;
    size_t before = v.size();
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const Lock& lk) { return lk.owner == owner || lk.alive.expired(); }),
            v.end());
    released = v.size() != before;
    if (v.empty()) locks_.erase(it);
  }
  if (released) changed_.Notify(kEventAll);
}

}  // namespace palisade::vfs
