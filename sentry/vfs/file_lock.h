// FileLocks: byte-range record locks of fcntl(2) (F_SETLK, F_SETLKW,
// F_GETLK and the F_OFD_* variants), shared by every filesystem. A lock
// belongs to an owner: for classic POSIX locks the process's fd table (as
// Linux's files_struct), for OFD locks the open file description. A lock
// dies with its owner: the table is told on close() (POSIX semantics:
// any close of the file drops all the process's locks on it), and locks
// whose owner object no longer exists (exited process, last close of an
// OFD) are ignored and pruned lazily. Never blocks; the fcntl handler
// waits on changed() for F_SETLKW, registered with SetOrWait so that a
// POSIX waiter that would close a cycle of waiters gets EDEADLK.
//
//   FileLocks::Owner me{fdtable.get(), fdtable_weak, pid};
//   Errno e = FileLocks::Global().Set(key, me, F_WRLCK, 0, FileLocks::kEof);
//   e = locks.SetOrWait(key, me, F_WRLCK, 0, kEof, &waiter, /*posix=*/true);
//   ... EAGAIN: sleep on changed() and retry; then locks.StopWaiting(&waiter)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "base/errno.h"
#include "sentry/kernel/waiter.h"

namespace palisade::vfs {

class FileLocks {
 public:
  static constexpr int64_t kEof = INT64_MAX;  // a range "to end of file, and beyond"

  // Identity of a file: (fs id, st_dev, st_ino).
  using Key = std::tuple<uint64_t, uint64_t, uint64_t>;
  struct Owner {
    const void* id = nullptr;        // fd table (POSIX) or file description (OFD)
    std::weak_ptr<const void> alive;  // expires with the owner
    int pid = -1;                    // what F_GETLK reports (-1 for OFD locks)
  };
  struct Conflict {
    int type;  // F_RDLCK or F_WRLCK
    int64_t start, end;  // inclusive; end == kEof for "to EOF"
    int pid;
  };

  static FileLocks& Global();

  // F_GETLK: the first lock of another owner that a `type` lock on
  // [start, end] would conflict with.
  std::optional<Conflict> Test(const Key& k, const void* owner, int type, int64_t start, int64_t end);
  // F_SETLK: take (F_RDLCK/F_WRLCK, converting or splitting the owner's
  // own locks) or release (F_UNLCK) [start, end]. EAGAIN on conflict.
  Errno Set(const Key& k, const Owner& owner, int type, int64_t start, int64_t end);
  // F_SETLKW: Set, but for a POSIX lock (posix) a conflict first looks
  // for a deadlock as Linux's posix_locks_deadlock does: EDEADLK if the
  // owner of the conflicting lock is itself waiting (directly or through
  // a chain of waiters) for a lock `owner` holds; otherwise it records
  // that `waiter` (one sleeping call) of `owner` waits for that owner.
  // OFD locks never deadlock-check. Call StopWaiting(waiter) when the
  // wait ends.
  Errno SetOrWait(const Key& k, const Owner& owner, int type, int64_t start, int64_t end, const void* waiter,
                  bool posix);
  void StopWaiting(const void* waiter);
  // close(): drops every lock `owner` holds on the file.
  void ReleaseAll(const Key& k, const void* owner);
  // Cheap check before computing keys: are any locks held at all?
  bool Any();
  // Notified whenever locks are released (F_SETLKW waiters re-check).
  WaitQueue& changed() { return changed_; }

 private:
  struct Lock {
    const void* owner;
    std::weak_ptr<const void> alive;
    int pid;
    int type;
    int64_t start, end;
  };
  struct Wait {
    const void* owner;
    const void* blocker;  // owner of the lock it waits for
  };
  // Set under mu_; on a conflict returns EAGAIN and the conflicting owner.
  Errno SetLocked(const Key& k, const Owner& owner, int type, int64_t start, int64_t end, bool* released,
                  const void** blocker);
  bool WouldDeadlockLocked(const void* owner, const void* blocker) const;

  std::mutex mu_;
  std::map<Key, std::vector<Lock>> locks_;  // guarded by mu_
  std::map<const void*, Wait> waits_;       // by waiter; guarded by mu_
  WaitQueue changed_;
};

}  // namespace palisade::vfs
