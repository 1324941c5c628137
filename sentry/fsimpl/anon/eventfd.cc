#include "sentry/fsimpl/anon/eventfd.h"

#include <sys/eventfd.h>

#include <cstring>

#include "sentry/fsimpl/anon/anon_inode.h"

namespace palisade {

EventFd::EventFd(uint64_t initval, int flags)
    : FileDescription(O_RDWR | (flags & EFD_NONBLOCK ? O_NONBLOCK : 0)),
      semaphore_(flags & EFD_SEMAPHORE),
      count_(initval) {}

ErrnoOr<int64_t> EventFd::Read(Task& t, std::span<uint8_t> dst) {
  if (dst.size() < sizeof(uint64_t)) return Errno(EINVAL);
  uint64_t v;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (count_ == 0) return Errno(EAGAIN);
    v = semaphore_ ? 1 : count_;
    count_ -= v;
  }
  memcpy(dst.data(), &v, sizeof(v));
  queue_.Notify(POLLOUT | POLLWRNORM);
  return int64_t{sizeof(uint64_t)};
}

ErrnoOr<int64_t> EventFd::Write(Task& t, std::span<const uint8_t> src) {
  if (src.size() < sizeof(uint64_t)) return Errno(EINVAL);
  uint64_t v;
  memcpy(&v, src.data(), sizeof(v));
  if (v == ~0ull) return Errno(EINVAL);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (kMax - count_ < v) return Errno(EAGAIN);
    count_ += v;
  }
  // Linux wakes readers on every write, even of 0 (an edge for EPOLLET).
  queue_.Notify(POLLIN | POLLRDNORM);
  return int64_t{sizeof(uint64_t)};
}

ErrnoOr<struct stat> EventFd::Stat(Task& t) { return AnonInodeStat(); }

uint32_t EventFd::Readiness(uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  uint32_t r = 0;
  if (count_ > 0) r |= POLLIN | POLLRDNORM;
  if (count_ < kMax) r |= POLLOUT | POLLWRNORM;
  return r & mask;
}

uint64_t EventFd::count() const {
  std::lock_guard<std::mutex> l(mu_);
  return count_;
}

}  // namespace palisade
