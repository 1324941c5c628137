#include "sentry/kernel/futex.h"

#include <linux/futex.h>

#include "sentry/kernel/task.h"

namespace palisade {

Errno FutexTable::Wait(Task& t, FutexKey key, uint32_t val, uint32_t bitset, int64_t deadline) {
  Entry e{&t.waiter(), bitset, false};
  {
    std::lock_guard<std::mutex> l(mu_);
    uint32_t cur;
    PAL_TRY_ERRNO(t.CopyIn(key.uaddr, &cur, sizeof(cur)));
    if (cur != val) return Errno(EAGAIN);
    t.waiter().Clear();
    queues_[key].push_back(&e);
  }
  Errno result = Errno::Ok();
  for (;;) {
    Errno b = t.Block(deadline);
    std::lock_guard<std::mutex> l(mu_);
    if (e.woken) break;  // a wake wins over a simultaneous signal/timeout
    if (!b.ok()) {
      auto it = queues_.find(key);
      // The entry may have been requeued to another key; search all.
      bool removed = false;
      if (it != queues_.end()) {
        removed = it->second.size() != (it->second.remove(&e), it->second.size());
        if (it->second.empty()) queues_.erase(it);
      }
      if (!removed) {
        for (auto q = queues_.begin(); q != queues_.end(); ++q) {
          size_t before = q->second.size();
          q->second.remove(&e);
          if (q->second.size() != before) {
            if (q->second.empty()) queues_.erase(q);
            break;
          }
        }
      }
      result = b;
      break;
    }
    t.waiter().Clear();
  }
  return result;
}

int FutexTable::Wake(FutexKey key, int n, uint32_t bitset) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = queues_.find(key);
  if (it == queues_.end()) return 0;
  int woken = 0;
  for (auto e = it->second.begin(); e != it->second.end() && woken < n;) {
    if ((*e)->bitset & bitset) {
      (*e)->woken = true;
      (*e)->waiter->Notify();
      e = it->second.erase(e);
      woken++;
    } else {
      ++e;
    }
  }
  if (it->second.empty()) queues_.erase(it);
  return woken;
}

ErrnoOr<int> FutexTable::Requeue(Task& t, FutexKey from, FutexKey to, int n, int n2, const uint32_t* cmp) {
  std::lock_guard<std::mutex> l(mu_);
  if (cmp) {
    uint32_t cur;
    PAL_TRY_ERRNO(t.CopyIn(from.uaddr, &cur, sizeof(cur)));
    if (cur != *cmp) return Errno(EAGAIN);
  }
  auto it = queues_.find(from);
  if (it == queues_.end()) return 0;
  int done = 0, woken = 0, moved = 0;
  auto& q = it->second;
  while (!q.empty() && woken < n) {
    Entry* e = q.front();
    q.pop_front();
    e->woken = true;
    e->waiter->Notify();
    woken++;
  }
  while (!q.empty() && moved < n2 && !(from == to)) {
    queues_[to].push_back(q.front());  // keyed by identity only
    q.pop_front();
    moved++;
  }
  done = woken + moved;
  if (q.empty()) queues_.erase(from);
  return done;
}

ErrnoOr<int> FutexTable::WakeOp(Task& t, FutexKey k1, FutexKey k2, int n1, int n2, uint32_t op) {
  // Decode FUTEX_OP(op, oparg, cmp, cmparg); see futex(2).
  int opcode = (op >> 28) & 7;
  bool shift = (op >> 28) & 8;
  int cmp = (op >> 24) & 15;
  int oparg = (static_cast<int32_t>(op << 8)) >> 20;
  int cmparg = (static_cast<int32_t>(op << 20)) >> 20;
  if (shift) oparg = 1 << (oparg & 31);
  int old;
  {
    // Not atomic against app threads running concurrently on other host
    // CPUs; glibc >= 2.25 no longer uses FUTEX_WAKE_OP in its hot paths.
    std::lock_guard<std::mutex> l(mu_);
    PAL_TRY_ERRNO(t.CopyIn(k2.uaddr, &old, sizeof(old)));
    int nv = old;
    switch (opcode) {
      case FUTEX_OP_SET: nv = oparg; break;
      case FUTEX_OP_ADD: nv = old + oparg; break;
      case FUTEX_OP_OR: nv = old | oparg; break;
      case FUTEX_OP_ANDN: nv = old & ~oparg; break;
      case FUTEX_OP_XOR: nv = old ^ oparg; break;
      default: return Errno(ENOSYS);
    }
    PAL_TRY_ERRNO(t.CopyOut(k2.uaddr, &nv, sizeof(nv)));
  }
  bool cond;
  switch (cmp) {
    case FUTEX_OP_CMP_EQ: cond = old == cmparg; break;
    case FUTEX_OP_CMP_NE: cond = old != cmparg; break;
    case FUTEX_OP_CMP_LT: cond = old < cmparg; break;
    case FUTEX_OP_CMP_LE: cond = old <= cmparg; break;
    case FUTEX_OP_CMP_GT: cond = old > cmparg; break;
    case FUTEX_OP_CMP_GE: cond = old >= cmparg; break;
    default: return Errno(ENOSYS);
  }
  int r = Wake(k1, n1, FUTEX_BITSET_MATCH_ANY);
  if (cond) r += Wake(k2, n2, FUTEX_BITSET_MATCH_ANY);
  return r;
}

}  // namespace palisade
