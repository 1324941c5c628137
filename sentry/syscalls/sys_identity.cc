// Credentials syscalls (credentials(7)): real/effective/saved/fs ids and
// supplementary groups, with Linux's permission rules for unprivileged
// changes, and the capability sets (capget/capset) with capabilities(7)'s
// uid-change rules (the rules themselves live in Credentials).
#include <linux/capability.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers.h"

namespace palisade::sys {
namespace {

constexpr uint32_t kUnchanged = 0xffffffffu;

// Commits new ids, with the capability changes a uid change makes.
void CommitUidChange(Task& t, Credentials n, const Credentials& old) {
  n.FixupAfterUidChange(old);
  t.set_creds(n);
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
  CommitUidChange(t, c, t.creds());
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
  CommitUidChange(t, c, t.creds());
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
  CommitUidChange(t, n, c);
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

// setfsuid(2)/setfsgid(2) always return the previous id; -1 (not a valid
// id) and a refused change leave it as it is.
SyscallResult Setfsuid(Task& t, const SyscallArgs& a) {
  const Credentials old = t.creds();
  uint32_t v = a[0].Uint();
  if (v == kUnchanged || v == old.fsuid) return int64_t(old.fsuid);
  if (old.HasCap(CAP_SETUID) || v == old.ruid || v == old.euid || v == old.suid) {
    Credentials c = old;
    c.fsuid = v;
    c.FixupAfterFsuidChange(old);
    t.set_creds(c);
  }
  return int64_t(old.fsuid);
}

SyscallResult Setfsgid(Task& t, const SyscallArgs& a) {
  const Credentials old = t.creds();
  uint32_t v = a[0].Uint();
  if (v == kUnchanged || v == old.fsgid) return int64_t(old.fsgid);
  if (old.HasCap(CAP_SETGID) || v == old.rgid || v == old.egid || v == old.sgid) {
    Credentials c = old;
    c.fsgid = v;
    t.set_creds(c);
  }
  return int64_t(old.fsgid);
}

namespace {

// The header's version (cap_validate_magic): how many data structs the
// caller passes, or EINVAL after writing the preferred version back.
ErrnoOr<int> CapDataCount(Task& t, uint64_t hdr_addr) {
  uint32_t version;
  PAL_TRY_ERRNO(t.CopyInObj(hdr_addr, version));
  switch (version) {
    case _LINUX_CAPABILITY_VERSION_1: return 1;
    case _LINUX_CAPABILITY_VERSION_2:
    case _LINUX_CAPABILITY_VERSION_3: return 2;
    default:
      PAL_TRY_ERRNO(t.CopyOutObj(hdr_addr, uint32_t{_LINUX_CAPABILITY_VERSION_3}));
      return Errno(EINVAL);
  }
}

}  // namespace

SyscallResult Capget(Task& t, const SyscallArgs& a) {
  auto count = CapDataCount(t, a[0].Ptr());
  // A null data pointer makes the call a version probe: it succeeds even
  // for an unknown version (which it has answered with the preferred one).
  if (!count.ok() && (a[1].Ptr() || count.error() != Errno(EINVAL))) return count.error();
  if (!a[1].Ptr()) return int64_t(0);
  struct __user_cap_header_struct hdr;
  PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), hdr));
  if (hdr.pid < 0) return Errno(EINVAL);
  Credentials c;
  if (hdr.pid == 0 || hdr.pid == t.tid()) {
    c = t.creds();
  } else {
    auto target = t.kernel().TaskByTid(hdr.pid);
    if (!target) return Errno(ESRCH);
    c = target->creds();
  }
  struct __user_cap_data_struct d[2] = {};
  for (int i = 0; i < 2; i++) {
    d[i].effective = static_cast<uint32_t>(c.cap_effective >> (32 * i));
    d[i].permitted = static_cast<uint32_t>(c.cap_permitted >> (32 * i));
    d[i].inheritable = static_cast<uint32_t>(c.cap_inheritable >> (32 * i));
  }
  PAL_TRY_ERRNO(t.CopyOut(a[1].Ptr(), d, *count * sizeof(d[0])));
  return int64_t(0);
}

SyscallResult Capset(Task& t, const SyscallArgs& a) {
  PAL_TRY(int count, CapDataCount(t, a[0].Ptr()));
  struct __user_cap_header_struct hdr;
  PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), hdr));
  // Only the caller's own sets may change (since Linux 2.6.25).
  if (hdr.pid != 0 && hdr.pid != t.tid()) return Errno(EPERM);
  struct __user_cap_data_struct d[2] = {};
  PAL_TRY_ERRNO(t.CopyIn(a[1].Ptr(), d, count * sizeof(d[0])));
  auto join = [](uint32_t lo, uint32_t hi) { return lo | (uint64_t{hi} << 32); };
  Credentials c = t.creds();
  PAL_TRY_ERRNO(c.Capset(join(d[0].effective, d[1].effective), join(d[0].permitted, d[1].permitted),
                         join(d[0].inheritable, d[1].inheritable)));
  t.set_creds(c);
  return int64_t(0);
}

}  // namespace palisade::sys
