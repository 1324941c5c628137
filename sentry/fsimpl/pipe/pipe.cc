#include "sentry/fsimpl/pipe/pipe.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace palisade {
namespace {

// pipefs inode numbers: unique per pipe, never reused while the sentry
// runs (Linux's get_next_ino() behaves the same way in practice).
std::atomic<uint64_t> next_pipe_ino{1000};

constexpr uint32_t kReadableEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWritableEvents = POLLOUT | POLLWRNORM;

}  // namespace

Pipe::Pipe() : ino_(next_pipe_ino.fetch_add(1)) { clock_gettime(CLOCK_REALTIME, &created_); }

std::unique_ptr<uint8_t[]> Pipe::NewPage() {
  if (spare_) return std::move(spare_);
  return std::make_unique<uint8_t[]>(kPageSize);
}

ErrnoOr<int64_t> Pipe::Read(std::span<uint8_t> dst) {
  if (dst.empty()) return int64_t{0};  // Linux answers 0-byte reads at once.
  int64_t done = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (slots_.empty()) {
      if (writers_ == 0) return int64_t{0};  // EOF
      return Errno(EAGAIN);
    }
    while (!slots_.empty() && done < static_cast<int64_t>(dst.size())) {
      Slot& s = slots_.front();
      size_t n = std::min<size_t>(s.len, dst.size() - done);
      memcpy(dst.data() + done, s.page.get() + s.off, n);
      done += n;
      queued_ -= n;
      s.off += n;
      s.len -= n;
      bool packet = s.packet;
      if (packet) {
        // A packet is read whole; what did not fit in dst is dropped.
        queued_ -= s.len;
        s.len = 0;
      }
      if (s.len == 0) {
        spare_ = std::move(s.page);
        slots_.pop_front();
      }
      if (packet) break;
    }
  }
  queue_.Notify(kWritableEvents);
  return done;
}

ErrnoOr<int64_t> Pipe::Write(std::span<const uint8_t> src, bool packet) {
  if (src.empty()) return int64_t{0};  // before the reader check, as Linux
  int64_t done = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (readers_ == 0) return Errno(EPIPE);
    const int64_t total = static_cast<int64_t>(src.size());
    // The tail (total mod page) may merge into the last slot; a write of
    // <= PIPE_BUF therefore either merges or takes one fresh slot: atomic.
    int64_t tail = total & (kPageSize - 1);
    if (tail != 0 && !slots_.empty()) {
      Slot& last = slots_.back();
      if (!last.packet && !packet && last.off + last.len + tail <= kPageSize) {
        memcpy(last.page.get() + last.off + last.len, src.data(), tail);
        last.len += tail;
        done = tail;
      }
    }
    while (done < total && !FullLocked()) {
      int64_t n = std::min(kPageSize, total - done);
      Slot s;
      s.page = NewPage();
      memcpy(s.page.get(), src.data() + done, n);
      s.len = static_cast<uint32_t>(n);
      s.packet = packet;
      slots_.push_back(std::move(s));
      done += n;
    }
    queued_ += done;
    if (done == 0) return Errno(EAGAIN);
  }
  queue_.Notify(kReadableEvents);
  return done;
}

uint32_t Pipe::ReaderReadiness(uint64_t hup_version) const {
  std::lock_guard<std::mutex> l(mu_);
  uint32_t r = 0;
  if (!slots_.empty()) r |= kReadableEvents;
  if (writers_ == 0 && hup_version != w_counter_) r |= POLLHUP;
  return r;
}

uint32_t Pipe::WriterReadiness() const {
  std::lock_guard<std::mutex> l(mu_);
  uint32_t r = 0;
  if (!FullLocked()) r |= kWritableEvents;
  if (readers_ == 0) r |= POLLERR;
  return r;
}

Pipe::OpenSnapshot Pipe::OpenEnds(bool read, bool write) {
  OpenSnapshot snap;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (read) {
      r_counter_++;
      readers_++;
    }
    if (write) {
      w_counter_++;
      writers_++;
    }
    snap = {readers_, writers_, r_counter_, w_counter_};
  }
  open_queue_.Notify(kEventAll);
  // A new reader clears a writer's POLLERR; a new writer may matter to a
  // reader's POLLHUP. Wake everyone so they re-check.
  queue_.Notify(kEventAll);
  return snap;
}

void Pipe::CloseEnds(bool read, bool write) {
  uint32_t events = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (read && --readers_ == 0) events |= POLLERR | kWritableEvents;
    if (write && --writers_ == 0) events |= POLLHUP | kReadableEvents;
  }
  if (events) queue_.Notify(events);
  // A FIFO opener that is waiting may care that the partner went away
  // again (it still counts as seen, per the counters).
  open_queue_.Notify(kEventAll);
}

int64_t Pipe::Queued() const {
  std::lock_guard<std::mutex> l(mu_);
  return queued_;
}

int64_t Pipe::Capacity() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_slots_ * kPageSize;
}

ErrnoOr<int64_t> Pipe::SetCapacity(uint32_t size, bool privileged) {
  // round_pipe_size(): > 2^31 is invalid, below a page is one page, else
  // the next power of two.
  if (size > (1u << 31)) return Errno(EINVAL);
  uint64_t bytes = kPageSize;
  while (bytes < size) bytes <<= 1;
  int64_t slots = static_cast<int64_t>(bytes / kPageSize);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (slots > max_slots_ && static_cast<int64_t>(bytes) > kMaxSize && !privileged) return Errno(EPERM);
    if (slots < static_cast<int64_t>(slots_.size())) return Errno(EBUSY);
    max_slots_ = slots;
  }
  queue_.Notify(kWritableEvents);
  return static_cast<int64_t>(bytes);
}

int Pipe::readers() const {
  std::lock_guard<std::mutex> l(mu_);
  return readers_;
}

int Pipe::writers() const {
  std::lock_guard<std::mutex> l(mu_);
  return writers_;
}

uint64_t Pipe::r_counter() const {
  std::lock_guard<std::mutex> l(mu_);
  return r_counter_;
}

uint64_t Pipe::w_counter() const {
  std::lock_guard<std::mutex> l(mu_);
  return w_counter_;
}

}  // namespace palisade
