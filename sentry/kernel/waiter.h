// Waiter and WaitQueue: how a sentry thread sleeps until something happens.
// A Waiter is owned by one Task (one host thread); WaitQueues live in the
// objects that can become ready (pipes, futexes, child exit ...). Event
// masks are poll(2) bits (POLLIN, POLLOUT, POLLHUP ...); kEventAll wakes on
// anything. Blocking itself is Task::Block(), which also wakes on signals.
//
//   queue.Register(&t.waiter(), POLLIN);
//   while (!ready()) { Errno e = t.Block(deadline); if (!e.ok()) break; }
//   queue.Unregister(&t.waiter());
#pragma once

#include <poll.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "base/unique_fd.h"

namespace palisade {

inline constexpr uint32_t kEventAll = 0xffffffff;

class Waiter {
 public:
  Waiter();
  // Wakes the owner's Block(). Any thread. Wakes are sticky: a Notify
  // before Block makes the next Block return at once.
  void Notify();
  // Host fd that becomes readable when notified (for poll()).
  int fd() const { return efd_.get(); }
  // Consumes pending notifications.
  void Clear();
  // Sleeps until notified or timeout_ms passes, then Clear()s. Unlike
  // Task::Block it ignores pending signals: for waits that signals must
  // not end (vfork, de_thread, a job-control stop).
  void WaitFor(int timeout_ms);
  // Optional callback for epoll: if set, Notify also calls it. Used by
  // epoll instances that forward readiness to their own queues.
 private:
  UniqueFd efd_;
};

class WaitQueue {
 public:
  void Register(Waiter* w, uint32_t mask);
  void Unregister(Waiter* w);
  // Wakes every waiter whose mask intersects events.
  void Notify(uint32_t events);
  bool empty() const;

 private:
  struct Entry {
    Waiter* waiter;
    uint32_t mask;
  };
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

}  // namespace palisade
