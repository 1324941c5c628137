// Monotonic time helpers for tests that need lower bounds on elapsed time.
// Upper bounds are never asserted tightly: tests run on loaded 2-core
// machines and under ptrace, where anything can be slow.
#ifndef PALISADE_TESTS_SYSCALLS_UTIL_TIME_UTIL_H_
#define PALISADE_TESTS_SYSCALLS_UTIL_TIME_UTIL_H_

#include <time.h>

#include <cstdint>

namespace palisade::testing {

inline int64_t MonotonicNowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline int64_t ToNs(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

constexpr int64_t kMs = 1000000;

}  // namespace palisade::testing

#endif  // PALISADE_TESTS_SYSCALLS_UTIL_TIME_UTIL_H_
