// EventFd: the file eventfd(2) returns, an 8-byte counter that threads and
// processes signal each other with.
//
//   auto f = std::make_shared<EventFd>(/*initval=*/3, EFD_SEMAPHORE | EFD_NONBLOCK);
//   uint8_t buf[8];
//   f->Read(t, buf);   // 8 bytes holding 1 (semaphore mode); counter now 2
//
// Rules (eventfd(2)): reads and writes need an 8-byte buffer (EINVAL
// otherwise; only 8 bytes move). read returns the counter and resets it,
// or 1 and decrements it under EFD_SEMAPHORE; EAGAIN at 0. write adds;
// 0xffffffffffffffff is EINVAL; a sum past 0xfffffffffffffffe is EAGAIN
// (blocking callers sleep until a read makes room). Readable while the
// counter is > 0, writable while it is below the maximum. Never blocks
// itself; sentry/syscalls/blocking_io.h does the sleeping. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>

#include "sentry/vfs/file_description.h"

namespace palisade {

class EventFd final : public FileDescription {
 public:
  static constexpr uint64_t kMax = 0xfffffffffffffffeull;

  // flags: EFD_SEMAPHORE, EFD_NONBLOCK (EFD_CLOEXEC is the fd table's).
  EventFd(uint64_t initval, int flags);

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override;
  ErrnoOr<struct stat> Stat(Task& t) override;
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override { queue_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { queue_.Unregister(w); }
  std::string DisplayName() const override { return "anon_inode:[eventfd]"; }

  uint64_t count() const;  // for /proc/<pid>/fdinfo ("eventfd-count")
  bool semaphore() const { return semaphore_; }

 private:
  const bool semaphore_;
  mutable std::mutex mu_;
  uint64_t count_;
  WaitQueue queue_;
};

}  // namespace palisade
