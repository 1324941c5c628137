// gMock matchers for the result of a raw system call or libc wrapper.
//
// A syscall wrapper returns -1 (or MAP_FAILED for pointers) and sets errno on
// failure. These matchers read errno at match time, which is right after the
// call under test was evaluated, so write the call inside the EXPECT_THAT:
//
//   EXPECT_THAT(open(path, O_RDONLY), SyscallSucceeds());
//   EXPECT_THAT(read(fd, buf, 4), SyscallSucceedsWithValue(4));
//   EXPECT_THAT(lseek(pipe_fd, 0, SEEK_SET), SyscallFailsWithErrno(ESPIPE));
//   EXPECT_THAT(rmdir(d), SyscallFailsWithErrno(AnyOf(ENOTEMPTY, EEXIST)));
//
// A failure message names the errno symbolically ("ENOENT (No such file or
// directory)") so a sandbox failure log reads like a man page.
#ifndef PALISADE_TESTS_SYSCALLS_UTIL_SYSCALL_MATCHERS_H_
#define PALISADE_TESTS_SYSCALLS_UTIL_SYSCALL_MATCHERS_H_

#include <errno.h>
#include <sys/mman.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <type_traits>

#include "gmock/gmock.h"

namespace palisade::testing {

// "ENOENT (No such file or directory)"; unknown values print as "errno 1234".
std::string ErrnoName(int err);

// True when `v` is a wrapper's failure value: -1, or MAP_FAILED for pointers.
template <typename T>
bool IsSyscallFailure(T v) {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<const void*>(v) == MAP_FAILED;
  } else {
    return v == static_cast<T>(-1);
  }
}

namespace internal {

class SyscallSucceedsMatcher {
 public:
  template <typename T>
  bool MatchAndExplain(T v, ::testing::MatchResultListener* l) const {
    const int err = errno;  // First: nothing may run before errno is read.
    if (IsSyscallFailure(v)) {
      *l << "failed with " << ErrnoName(err);
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const { *os << "syscall succeeds"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "syscall fails"; }
};

template <typename M>
class SyscallSucceedsWithValueMatcher {
 public:
  explicit SyscallSucceedsWithValueMatcher(M m) : m_(std::move(m)) {}
  template <typename T>
  bool MatchAndExplain(T v, ::testing::MatchResultListener* l) const {
    const int err = errno;
    if (IsSyscallFailure(v)) {
      *l << "failed with " << ErrnoName(err);
      return false;
    }
    const ::testing::Matcher<T> inner = ::testing::MatcherCast<T>(m_);
    ::testing::StringMatchResultListener sub;
    if (!inner.MatchAndExplain(v, &sub)) {
      *l << "succeeded with value " << v;
      if (!sub.str().empty()) *l << ", " << sub.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "syscall succeeds with a value that "
        << ::testing::DescribeMatcher<int64_t>(::testing::MatcherCast<int64_t>(m_));
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "syscall fails or returns a value that "
        << ::testing::DescribeMatcher<int64_t>(::testing::MatcherCast<int64_t>(m_),
                                               /*negation=*/true);
  }

 private:
  M m_;
};

template <typename M>
class SyscallFailsWithErrnoMatcher {
 public:
  explicit SyscallFailsWithErrnoMatcher(M m) : m_(std::move(m)) {}
  template <typename T>
  bool MatchAndExplain(T v, ::testing::MatchResultListener* l) const {
    const int err = errno;
    if (!IsSyscallFailure(v)) {
      *l << "succeeded with value " << v;
      return false;
    }
    const ::testing::Matcher<int> inner = ::testing::MatcherCast<int>(m_);
    if (!inner.Matches(err)) {
      *l << "failed with " << ErrnoName(err);
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "syscall fails with an errno that ";
    DescribeErrno(os, false);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "syscall succeeds or fails with an errno that ";
    DescribeErrno(os, true);
  }

 private:
  void DescribeErrno(std::ostream* os, bool negation) const {
    if constexpr (std::is_integral_v<M>) {
      *os << (negation ? "isn't " : "is ") << ErrnoName(static_cast<int>(m_));
    } else {
      *os << ::testing::DescribeMatcher<int>(::testing::MatcherCast<int>(m_), negation);
    }
  }
  M m_;
};

}  // namespace internal

// Matches a call that did not return -1 / MAP_FAILED.
inline ::testing::PolymorphicMatcher<internal::SyscallSucceedsMatcher> SyscallSucceeds() {
  return ::testing::MakePolymorphicMatcher(internal::SyscallSucceedsMatcher());
}

// Matches a successful call whose result matches `m` (a value or a matcher).
template <typename M>
::testing::PolymorphicMatcher<internal::SyscallSucceedsWithValueMatcher<M>>
SyscallSucceedsWithValue(M m) {
  return ::testing::MakePolymorphicMatcher(
      internal::SyscallSucceedsWithValueMatcher<M>(std::move(m)));
}

// Matches a failed call, whatever its errno.
inline ::testing::PolymorphicMatcher<internal::SyscallFailsWithErrnoMatcher<
    ::testing::internal::AnythingMatcher>>
SyscallFails() {
  return ::testing::MakePolymorphicMatcher(
      internal::SyscallFailsWithErrnoMatcher<::testing::internal::AnythingMatcher>(
          ::testing::_));
}

// Matches a failed call whose errno matches `m` (an errno value or a matcher
// such as AnyOf(EAGAIN, EWOULDBLOCK)).
template <typename M>
::testing::PolymorphicMatcher<internal::SyscallFailsWithErrnoMatcher<M>>
SyscallFailsWithErrno(M m) {
  return ::testing::MakePolymorphicMatcher(
      internal::SyscallFailsWithErrnoMatcher<M>(std::move(m)));
}

}  // namespace palisade::testing

#endif  // PALISADE_TESTS_SYSCALLS_UTIL_SYSCALL_MATCHERS_H_
