// FutexTable: the sandbox's futexes. Keys are (address space, address);
// waiters are Tasks sleeping in Task::Block. The value check happens under
// the table lock, as Linux does under its hash-bucket lock, so a wake
// between "value still expected" and "asleep" is never lost.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <mutex>

#include "base/errno.h"

namespace palisade {

class Task;
class Waiter;

// (space, addr) identifies a futex: space is a MemoryManager with a user
// address, or the MemoryFile with an offset (shared mappings). uaddr is
// the caller's address of the word and takes no part in identity.
struct FutexKey {
  const void* mm = nullptr;
  uint64_t addr = 0;
  uint64_t uaddr = 0;
  FutexKey(const void* space, uint64_t a) : mm(space), addr(a), uaddr(a) {}
  FutexKey(const void* space, uint64_t a, uint64_t user) : mm(space), addr(a), uaddr(user) {}
  bool operator<(const FutexKey& o) const { return mm != o.mm ? mm < o.mm : addr < o.addr; }
  bool operator==(const FutexKey& o) const { return mm == o.mm && addr == o.addr; }
};

class FutexTable {
 public:
  // Sleeps while *addr == val until woken (Ok), a signal (EINTR), the
  // deadline (ETIMEDOUT); EAGAIN if the value differs. bitset != 0.
  Errno Wait(Task& t, FutexKey key, uint32_t val, uint32_t bitset, int64_t deadline_mono_ns);
  // Wakes up to n waiters whose bitset intersects; returns how many.
  int Wake(FutexKey key, int n, uint32_t bitset);
  // Wakes n on `from`, moves up to n2 others to `to`. If cmp is set the
  // value at `from` must equal *cmp (EAGAIN otherwise).
  ErrnoOr<int> Requeue(Task& t, FutexKey from, FutexKey to, int n, int n2, const uint32_t* cmp);
  // FUTEX_WAKE_OP.
  ErrnoOr<int> WakeOp(Task& t, FutexKey k1, FutexKey k2, int n1, int n2, uint32_t op);

 private:
  struct Entry {
    Waiter* waiter;
    uint32_t bitset;
    bool woken;
  };
  std::mutex mu_;
  std::map<FutexKey, std::list<Entry*>> queues_;
};

}  // namespace palisade
