// Pipe: the buffer and end-counting state shared by the two ends of a
// pipe(2) or by every opener of a named FIFO (Linux's pipe_inode_info).
// The buffer is a ring of page-sized slots, as in Linux, because that
// model is what fixes the observable rules: a write of at most PIPE_BUF
// bytes lands in one slot (merged into the last one if it fits), so it is
// atomic; POLLOUT means "a slot is free"; F_SETPIPE_SZ counts slots.
// Nothing here blocks: an operation that would block returns EAGAIN and
// the syscall layer sleeps on queue() (sentry/syscalls/blocking_io.h).
// Every state change notifies queue(), after the pipe lock is dropped.
//
//   auto p = std::make_shared<Pipe>();
//   p->OpenEnds(/*read=*/true, /*write=*/true);
//   p->Write(bytes, /*packet=*/false);   // 5
//   p->Read(buf);                        // 5
//
// Thread-safe (one mutex; WaitQueue notifications happen outside it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>

#include "base/errno.h"
#include "sentry/kernel/waiter.h"

namespace palisade {

class Task;

// Sends SIGPIPE to t. Defined by the signal code (sentry/kernel), not here.
// Pipe writers call it themselves on EPIPE, as Linux's pipe_write does, so
// the write(2) layer must not send a second one for pipes.
void SendSigpipe(Task& t);

class Pipe {
 public:
  static constexpr int64_t kPageSize = 4096;
  static constexpr int64_t kPipeBuf = 4096;          // PIPE_BUF: atomic write limit
  static constexpr int64_t kDefaultSlots = 16;       // 64 KiB, as Linux
  static constexpr int64_t kMaxSize = 1024 * 1024;   // /proc/sys/fs/pipe-max-size default

  // The state an opener saw right after its own OpenEnds(), taken under
  // the lock so FIFO openers can wait for a partner without races.
  struct OpenSnapshot {
    int readers = 0, writers = 0;
    uint64_t r_counter = 0, w_counter = 0;
  };

  Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // Moves up to dst.size() bytes out. 0 = EOF (empty and no writers),
  // EAGAIN when empty with writers. A packet-mode slot is consumed whole
  // (its excess discarded) and ends the read, as O_DIRECT pipes do.
  ErrnoOr<int64_t> Read(std::span<uint8_t> dst);
  // Queues bytes. EPIPE when there are no readers (caller sends SIGPIPE).
  // Writes of <= kPipeBuf bytes go in whole or not at all (EAGAIN);
  // larger ones go in partially (EAGAIN only if nothing fit). packet:
  // the writer has O_DIRECT (each slot is a packet, never merged).
  ErrnoOr<int64_t> Write(std::span<const uint8_t> src, bool packet);

  // Reader-side and writer-side poll bits (pipe_poll). hup_version: the
  // w_counter a non-blocking FIFO reader saw at open; POLLHUP is held back
  // until some writer has come and gone since then (0 for everyone else).
  uint32_t ReaderReadiness(uint64_t hup_version) const;
  uint32_t WriterReadiness() const;

  // Counts an opener of the given ends; wakes FIFO openers waiting for a
  // partner (open_queue()) and pollers.
  OpenSnapshot OpenEnds(bool read, bool write);
  // Undoes OpenEnds at the last close: readers see EOF/POLLHUP when the
  // last writer goes, writers see EPIPE/POLLERR when the last reader goes.
  void CloseEnds(bool read, bool write);

  int64_t Queued() const;    // FIONREAD
  int64_t Capacity() const;  // F_GETPIPE_SZ
  // F_SETPIPE_SZ: rounds up to a power-of-two number of pages (minimum
  // one), EPERM above kMaxSize unless privileged (CAP_SYS_RESOURCE),
  // EBUSY if the bytes queued need more slots, EINVAL above 2^31.
  ErrnoOr<int64_t> SetCapacity(uint32_t size, bool privileged);

  int readers() const;
  int writers() const;
  uint64_t r_counter() const;
  uint64_t w_counter() const;

  // Readiness changes (POLLIN/POLLOUT/POLLHUP/POLLERR bits).
  WaitQueue& queue() { return queue_; }
  // Openers of a FIFO waiting for the other end; notified on every open.
  WaitQueue& open_queue() { return open_queue_; }

  // Identity for fstat and /proc/<pid>/fd ("pipe:[ino]").
  uint64_t ino() const { return ino_; }
  struct timespec created() const { return created_; }

 private:
  struct Slot {
    std::unique_ptr<uint8_t[]> page;  // kPageSize bytes
    uint32_t off = 0, len = 0;
    bool packet = false;  // from an O_DIRECT writer: never merged, read whole
  };
  std::unique_ptr<uint8_t[]> NewPage();  // REQUIRES: mu_ held
  bool FullLocked() const { return static_cast<int64_t>(slots_.size()) >= max_slots_; }

  mutable std::mutex mu_;
  std::deque<Slot> slots_;
  std::unique_ptr<uint8_t[]> spare_;  // one freed page kept, as Linux's tmp_page
  int64_t max_slots_ = kDefaultSlots;
  int64_t queued_ = 0;
  int readers_ = 0, writers_ = 0;
  // Bumped by every open of that end; never decremented. FIFO openers
  // wait for a change (Linux's r_counter/w_counter).
  uint64_t r_counter_ = 0, w_counter_ = 0;
  WaitQueue queue_;
  WaitQueue open_queue_;
  const uint64_t ino_;
  struct timespec created_ {};
};

}  // namespace palisade
