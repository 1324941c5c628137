// Credentials syscalls (credentials(7)): real/effective/saved/fs ids and
// supplementary groups, with Linux's permission rules for unprivileged
// changes. Capabilities: a root task holds all, others none (capget);
// capset is accepted but not enforced beyond that (documented).
#include <linux/capability.h>

#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers.h"

namespace palisade::sys {
namespace {

constexpr uint32_t kUnchanged = 0xffffffffu;

// Linux drops all capabilities when every uid becomes non-zero, and grants
// them again when euid returns to 0 (without SECBIT_NO_SETUID_FIXUP).
void FixupCaps(Credentials& c) {
  c.cap_effective = c.euid == 0 ? ~0ull : 0;
}

}  // namespace

SyscallResult Getuid(Task& t, const SyscallArgs&) { return int64_t(t.creds().ruid); }
SyscallResult Geteuid(Task& t, const SyscallArgs&) { return int64_t(t.creds().euid); }
SyscallResult Getgid(Task& t, const SyscallArgs&) { return int64_t(t.creds().rgid); }
SyscallResult Getegid(Task& t, const SyscallArgs&) { return int64_t(t.creds().egid); }

SyscallResult Setuid(Task& t, const SyscallArgs& a) {
  uint32_t uid = a[0].Uint();
  if (uid == kUnchanged) return Errno(EINVAL);
  Credentials c = t.creds();
  if (c.HasCap(CAP_SETUID)) {
    c.ruid = c.euid = c.suid = c.fsuid = uid;
  } else if (uid == c.ruid || uid == c.suid) {
    c.euid = c.fsuid = uid;
  } else {
    return Errno(EPERM);
  }
  FixupCaps(c);
  t.set_creds(c);
  return int64_t(0);
}

SyscallResult Setgid(Task& t, const SyscallArgs& a) {
  uint32_t gid = a[0].Uint();
  if (gid == kUnchanged) return Errno(EINVAL);
  Credentials c = t.creds();
  if (c.HasCap(CAP_SETGID)) {
    c.rgid = c.egid = c.sgid = c.fsgid = gid;
  } else if (gid == c.rgid || gid == c.sgid) {
    c.egid = c.fsgid = gid;
  } else {
    return Errno(EPERM);
  }
  t.set_creds(c);
  return int64_t(0);
}

static SyscallResult DoSetresuid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  Credentials c = t.creds();
  if (!c.HasCap(CAP_SETUID)) {
    auto ok = [&](uint32_t v) { return v == kUnchanged || v == c.ruid || v == c.euid || v == c.suid; };
    if (!ok(r) || !ok(e) || !ok(s)) return Errno(EPERM);
  }
  if (r != kUnchanged) c.ruid = r;
  if (e != kUnchanged) c.euid = e;
  if (s != kUnchanged) c.suid = s;
  c.fsuid = c.euid;
  FixupCaps(c);
  t.set_creds(c);
  return int64_t(0);
}

static SyscallResult DoSetresgid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  Credentials c = t.creds();
  if (!c.HasCap(CAP_SETGID)) {
    auto ok = [&](uint32_t v) { return v == kUnchanged || v == c.rgid || v == c.egid || v == c.sgid; };
    if (!ok(r) || !ok(e) || !ok(s)) return Errno(EPERM);
  }
  if (r != kUnchanged) c.rgid = r;
  if (e != kUnchanged) c.egid = e;
  if (s != kUnchanged) c.sgid = s;
  c.fsgid = c.egid;
  t.set_creds(c);
  return int64_t(0);
}

SyscallResult Setresuid(Task& t, const SyscallArgs& a) { return DoSetresuid(t, a[0].Uint(), a[1].Uint(), a[2].Uint()); }
SyscallResult Setresgid(Task& t, const SyscallArgs& a) { return DoSetresgid(t, a[0].Uint(), a[1].Uint(), a[2].Uint()); }

SyscallResult Setreuid(Task& t, const SyscallArgs& a) {
  uint32_t r = a[0].Uint(), e = a[1].Uint();
  Credentials c = t.creds();
  // setreuid(2): the saved uid follows the new euid if ruid is set or
  // euid differs from the old ruid.
  uint32_t s = kUnchanged;
  if (r != kUnchanged || (e != kUnchanged && e != c.ruid)) s = (e != kUnchanged) ? e : c.euid;
  if (!c.HasCap(CAP_SETUID)) {
    if (r != kUnchanged && r != c.ruid && r != c.euid) return Errno(EPERM);
    if (e != kUnchanged && e != c.ruid && e != c.euid && e != c.suid) return Errno(EPERM);
  }
  Credentials n = c;
  if (r != kUnchanged) n.ruid = r;
  if (e != kUnchanged) n.euid = e;
  if (s != kUnchanged) n.suid = s;
  n.fsuid = n.euid;
  FixupCaps(n);
  t.set_creds(n);
  return int64_t(0);
}

SyscallResult Setregid(Task& t, const SyscallArgs& a) {
  uint32_t r = a[0].Uint(), e = a[1].Uint();
  Credentials c = t.creds();
  uint32_t s = kUnchanged;
  if (r != kUnchanged || (e != kUnchanged && e != c.rgid)) s = (e != kUnchanged) ? e : c.egid;
  if (!c.HasCap(CAP_SETGID)) {
    if (r != kUnchanged && r != c.rgid && r != c.egid) return Errno(EPERM);
    if (e != kUnchanged && e != c.rgid && e != c.egid && e != c.sgid) return Errno(EPERM);
  }
  Credentials n = c;
  if (r != kUnchanged) n.rgid = r;
  if (e != kUnchanged) n.egid = e;
  if (s != kUnchanged) n.sgid = s;
  n.fsgid = n.egid;
  t.set_creds(n);
  return int64_t(0);
}

SyscallResult Getresuid(Task& t, const SyscallArgs& a) {
  Credentials c = t.creds();
  PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), uint32_t(c.ruid)));
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), uint32_t(c.euid)));
  PAL_TRY_ERRNO(t.CopyOutObj(a[2].Ptr(), uint32_t(c.suid)));
  return int64_t(0);
}

SyscallResult Getresgid(Task& t, const SyscallArgs& a) {
  Credentials c = t.creds();
  PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), uint32_t(c.rgid)));
  PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), uint32_t(c.egid)));
  PAL_TRY_ERRNO(t.CopyOutObj(a[2].Ptr(), uint32_t(c.sgid)));
  return int64_t(0);
}

SyscallResult Getgroups(Task& t, const SyscallArgs& a) {
  int size = a[0].Int();
  Credentials c = t.creds();
  if (size < 0) return Errno(EINVAL);
  if (size == 0) return int64_t(c.groups.size());
  if (static_cast<size_t>(size) < c.groups.size()) return Errno(EINVAL);
  if (!c.groups.empty()) PAL_TRY_ERRNO(t.CopyOut(a[1].Ptr(), c.groups.data(), c.groups.size() * sizeof(gid_t)));
  return int64_t(c.groups.size());
}

SyscallResult Setgroups(Task& t, const SyscallArgs& a) {
  int size = a[0].Int();
  if (size < 0 || size > 65536) return Errno(EINVAL);
  Credentials c = t.creds();
  if (!c.HasCap(CAP_SETGID)) return Errno(EPERM);
  std::vector<gid_t> g(size);
  if (size) PAL_TRY_ERRNO(t.CopyIn(a[1].Ptr(), g.data(), size * sizeof(gid_t)));
  c.groups = std::move(g);
  t.set_creds(c);
  return int64_t(0);
}

SyscallResult Setfsuid(Task& t, const SyscallArgs& a) {
  Credentials c = t.creds();
  uint32_t old = c.fsuid, v = a[0].Uint();
  if (c.HasCap(CAP_SETUID) || v == c.ruid || v == c.euid || v == c.suid || v == c.fsuid) {
    c.fsuid = v;
    t.set_creds(c);
  }
  return int64_t(old);
}

SyscallResult Setfsgid(Task& t, const SyscallArgs& a) {
  Credentials c = t.creds();
  uint32_t old = c.fsgid, v = a[0].Uint();
  if (c.HasCap(CAP_SETGID) || v == c.rgid || v == c.egid || v == c.sgid || v == c.fsgid) {
    c.fsgid = v;
    t.set_creds(c);
  }
  return int64_t(old);
}

SyscallResult Capget(Task& t, const SyscallArgs& a) {
  struct __user_cap_header_struct hdr;
  PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), hdr));
  if (hdr.version != _LINUX_CAPABILITY_VERSION_3 && hdr.version != _LINUX_CAPABILITY_VERSION_2 &&
      hdr.version != _LINUX_CAPABILITY_VERSION_1) {
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), hdr));
    return Errno(EINVAL);
  }
  if (!a[1].Ptr()) return int64_t(0);
  uint64_t caps = t.creds().cap_effective & ((1ull << (CAP_LAST_CAP + 1)) - 1);
  struct __user_cap_data_struct d[2] = {};
  d[0].effective = d[0].permitted = static_cast<uint32_t>(caps);
  d[1].effective = d[1].permitted = static_cast<uint32_t>(caps >> 32);
  int n = hdr.version == _LINUX_CAPABILITY_VERSION_1 ? 1 : 2;
  PAL_TRY_ERRNO(t.CopyOut(a[1].Ptr(), d, n * sizeof(d[0])));
  return int64_t(0);
}

SyscallResult Capset(Task& t, const SyscallArgs& a) {
  struct __user_cap_header_struct hdr;
  PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), hdr));
  if (hdr.pid != 0 && hdr.pid != t.tid()) return Errno(EPERM);
  // Dropping is honoured for the effective set; raising needs root.
  struct __user_cap_data_struct d[2] = {};
  PAL_TRY_ERRNO(t.CopyIn(a[1].Ptr(), d, sizeof(d)));
  Credentials c = t.creds();
  uint64_t want = d[0].effective | (uint64_t(d[1].effective) << 32);
  if (want & ~c.cap_effective) return Errno(EPERM);
  c.cap_effective = want;
  t.set_creds(c);
  return int64_t(0);
}

}  // namespace palisade::sys
