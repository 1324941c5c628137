// Conversions between the timespec/timeval of the syscall ABI and the
// sentry's int64 nanoseconds, saturating like Linux's ktime (KTIME_MAX).
#pragma once

#include <sys/time.h>
#include <time.h>

#include <cstdint>

namespace palisade::sys {

inline constexpr int64_t kNsPerSec = 1000000000;

inline bool ValidTimespec(const struct timespec& ts) {
  return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < kNsPerSec;
}

inline int64_t TimespecToNs(const struct timespec& ts) {
  if (ts.tv_sec >= INT64_MAX / kNsPerSec) return INT64_MAX;
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

inline int64_t TimevalToNs(const struct timeval& tv) {
  if (tv.tv_sec >= INT64_MAX / kNsPerSec) return INT64_MAX;
  return tv.tv_sec * kNsPerSec + tv.tv_usec * 1000;
}

inline struct timespec NsToTimespec(int64_t ns) {
  return {static_cast<time_t>(ns / kNsPerSec), static_cast<long>(ns % kNsPerSec)};
}

inline struct timeval NsToTimeval(int64_t ns) {
  return {static_cast<time_t>(ns / kNsPerSec), static_cast<suseconds_t>((ns % kNsPerSec) / 1000)};
}

}  // namespace palisade::sys
