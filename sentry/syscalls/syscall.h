// Types every syscall handler uses: SyscallArgs (the six raw arguments with
// typed accessors) and SyscallResult (a value or an Errno).
//
//   SyscallResult Read(Task& t, const SyscallArgs& a) {
//     int fd = a[0].Int(); uint64_t buf = a[1].Ptr(); size_t n = a[2].Size();
//     ...
//     return Errno(EBADF);  or  return int64_t(n);
//   }
#pragma once

#include <array>
#include <cstdint>

#include "base/errno.h"

namespace palisade {

class Task;

struct SyscallArg {
  uint64_t raw = 0;
  int Int() const { return static_cast<int>(raw); }
  int Fd() const { return static_cast<int>(raw); }
  uint32_t Uint() const { return static_cast<uint32_t>(raw); }
  int64_t Int64() const { return static_cast<int64_t>(raw); }
  uint64_t Ptr() const { return raw; }
  uint64_t Size() const { return raw; }
  uint32_t Mode() const { return static_cast<uint32_t>(raw); }
};

struct SyscallArgs {
  int nr = 0;
  std::array<SyscallArg, 6> args{};
  const SyscallArg& operator[](int i) const { return args[i]; }
};

// A handler's result: a non-negative value or an Errno (which may be one of
// the internal restart codes, resolved at syscall exit).
class SyscallResult {
 public:
  SyscallResult(int64_t v) : v_(v) {}                 // NOLINT: implicit
  SyscallResult(Errno e) : v_(-int64_t(e.value())) {}  // NOLINT: implicit
  template <typename T>
  SyscallResult(const ErrnoOr<T>& r)  // NOLINT: implicit
      : v_(r.ok() ? int64_t(*r) : -int64_t(r.error().value())) {}
  bool ok() const { return v_ >= 0 || v_ < -4095; }
  Errno error() const { return ok() ? Errno::Ok() : Errno(int(-v_)); }
  // What goes into rax: value, or -errno.
  int64_t raw() const { return v_; }

 private:
  int64_t v_;
};

using SyscallHandler = SyscallResult (*)(Task&, const SyscallArgs&);

}  // namespace palisade
