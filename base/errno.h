// Errno and ErrnoOr<T>: the sentry's cheap, lossless error type for syscall
// paths. absl::Status folds EPERM/EACCES (and ENOENT/ESRCH) into one code,
// so syscall errnos never travel inside a Status (see STYLE.md, section C).
//
//   ErrnoOr<int64_t> r = file.Read(t, buf);
//   if (!r.ok()) return r.error();
//   use(*r);
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace palisade {

// A strong integer type for a positive Linux errno value. Errno{0} means
// "no error" and is what Errno::Ok() returns.
class Errno {
 public:
  constexpr Errno() = default;
  constexpr explicit Errno(int value) : value_(value) {}
  static constexpr Errno Ok() { return Errno(0); }
  // Captures the calling thread's host errno (after a failed host call).
  static Errno FromHost() { return Errno(errno); }

  constexpr int value() const { return value_; }
  constexpr bool ok() const { return value_ == 0; }
  constexpr bool operator==(const Errno&) const = default;
  std::string Name() const;  // "ENOENT"

 private:
  int value_ = 0;
};

// Errors internal to the sentry that never reach the application: they
// resolve at syscall exit (restart semantics), as in Linux.
inline constexpr int kERESTARTSYS = 512;
inline constexpr int kERESTARTNOINTR = 513;
inline constexpr int kERESTARTNOHAND = 514;
inline constexpr int kERESTART_RESTARTBLOCK = 516;

// ErrnoOr<T> holds a T or a non-zero Errno. std::expected is C++23.
template <typename T>
class ErrnoOr {
 public:
  ErrnoOr(T value) : v_(std::move(value)) {}            // NOLINT: implicit
  ErrnoOr(Errno e) : v_(e) {}                           // NOLINT: implicit
  bool ok() const { return std::holds_alternative<T>(v_); }
  Errno error() const { return ok() ? Errno::Ok() : std::get<Errno>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Errno> v_;
};

}  // namespace palisade

// Early-return helpers for ErrnoOr/Errno code paths.
#define PAL_ERRNO_CONCAT_INNER(a, b) a##b
#define PAL_ERRNO_CONCAT(a, b) PAL_ERRNO_CONCAT_INNER(a, b)
// PAL_TRY(lhs, expr): evaluates expr (an ErrnoOr), returns its Errno on
// failure, otherwise moves the value into lhs (a declaration or lvalue).
#define PAL_TRY(lhs, expr) PAL_TRY_IMPL(PAL_ERRNO_CONCAT(_pal_try_, __LINE__), lhs, expr)
#define PAL_TRY_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                 \
  if (!tmp.ok()) return tmp.error(); \
  lhs = std::move(tmp).value()
// PAL_TRY_ERRNO(expr): expr is an Errno; returns it if not ok.
#define PAL_TRY_ERRNO(expr)                                        \
  do {                                                             \
    ::palisade::Errno _pal_e = (expr);                             \
    if (!_pal_e.ok()) return _pal_e;                               \
  } while (0)
