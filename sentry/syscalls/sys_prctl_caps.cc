// prctl(2)'s capability options (capabilities(7): the bounding set, the
// ambient set, securebits and the keep-capabilities flag), from Linux's
// cap_task_prctl.
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>

#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers_creds.h"

namespace palisade::sys {
namespace {

SyscallResult Commit(Task& t, const Credentials& c) {
  t.set_creds(c);
  return int64_t(0);
}

SyscallResult Ambient(Task& t, const SyscallArgs& a) {
  Credentials c = t.creds();
  const uint64_t op = a[1].raw, cap = a[2].raw;
  if (op == PR_CAP_AMBIENT_CLEAR_ALL) {
    if (a[2].raw | a[3].raw | a[4].raw) return Errno(EINVAL);
    c.cap_ambient = 0;
    return Commit(t, c);
  }
  if (!CapValid(cap) || a[3].raw || a[4].raw) return Errno(EINVAL);
  const uint64_t bit = CapBit(static_cast<int>(cap));
  switch (op) {
    case PR_CAP_AMBIENT_IS_SET:
      return int64_t((c.cap_ambient & bit) ? 1 : 0);
    case PR_CAP_AMBIENT_RAISE:
      // Only what is both permitted and inheritable may become ambient.
      if (!(c.cap_permitted & bit) || !(c.cap_inheritable & bit) || c.SecureBit(SECURE_NO_CAP_AMBIENT_RAISE)) {
        return Errno(EPERM);
      }
      c.cap_ambient |= bit;
      return Commit(t, c);
    case PR_CAP_AMBIENT_LOWER:
      c.cap_ambient &= ~bit;
      return Commit(t, c);
    default:
      return Errno(EINVAL);
  }
}

SyscallResult SetSecurebits(Task& t, uint64_t bits) {
  Credentials c = t.creds();
  const uint64_t old = c.securebits;
  // A locked bit may not change, a lock may not be released, no unknown
  // bits, and only with CAP_SETPCAP.
  if ((((old & SECURE_ALL_LOCKS) >> 1) & (old ^ bits)) || (old & SECURE_ALL_LOCKS & ~bits) ||
      (bits & ~uint64_t(SECURE_ALL_LOCKS | SECURE_ALL_BITS)) || !c.HasCap(CAP_SETPCAP)) {
    return Errno(EPERM);
  }
  c.securebits = static_cast<uint32_t>(bits);
  return Commit(t, c);
}

}  // namespace

std::optional<SyscallResult> CapabilityPrctl(Task& t, const SyscallArgs& a) {
  switch (a[0].Int()) {
    case PR_CAPBSET_READ:
      if (!CapValid(a[1].raw)) return Errno(EINVAL);
      return int64_t((t.creds().cap_bounding & CapBit(a[1].Int())) ? 1 : 0);
    case PR_CAPBSET_DROP: {
      Credentials c = t.creds();
      if (!c.HasCap(CAP_SETPCAP)) return Errno(EPERM);
      if (!CapValid(a[1].raw)) return Errno(EINVAL);
      c.cap_bounding &= ~CapBit(a[1].Int());
      return Commit(t, c);
    }
    case PR_CAP_AMBIENT:
      return Ambient(t, a);
    case PR_GET_KEEPCAPS:
      return int64_t(t.creds().SecureBit(SECURE_KEEP_CAPS) ? 1 : 0);
    case PR_SET_KEEPCAPS: {
      if (a[1].raw > 1) return Errno(EINVAL);
      Credentials c = t.creds();
      if (c.SecureBit(SECURE_KEEP_CAPS_LOCKED)) return Errno(EPERM);
      if (a[1].raw) {
        c.securebits |= SECBIT_KEEP_CAPS;
      } else {
        c.securebits &= ~SECBIT_KEEP_CAPS;
      }
      return Commit(t, c);
    }
    case PR_GET_SECUREBITS:
      return int64_t(t.creds().securebits);
    case PR_SET_SECUREBITS:
      return SetSecurebits(t, a[1].raw);
    default:
      return std::nullopt;
  }
}

}  // namespace palisade::sys
