// Credentials: the sandbox-level identity of a task (never the host's).
// Copied on clone; changed by set*id, capset, prctl and execve. Follows
// credentials(7) and capabilities(7): real/effective/saved/fs ids, and the
// effective, permitted, inheritable, bounding and ambient capability sets
// with the securebits, transformed on uid changes and execve as Linux's
// security/commoncap.c does (no file capabilities: the sandbox has no
// security.capability xattrs, and set-user-ID bits are not honoured).
//
//   Credentials c = t.creds();
//   Credentials old = c;
//   c.euid = 1000;
//   c.FixupAfterUidChange(old);   // effective set cleared: euid left 0
//   t.set_creds(c);
#pragma once

#include <linux/capability.h>
#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "base/errno.h"

namespace palisade {

// Every capability this kernel knows (0..CAP_LAST_CAP).
inline constexpr uint64_t kAllCaps = (uint64_t{1} << (CAP_LAST_CAP + 1)) - 1;
inline constexpr bool CapValid(uint64_t cap) { return cap <= CAP_LAST_CAP; }
inline constexpr uint64_t CapBit(int cap) { return uint64_t{1} << cap; }

struct Credentials {
  uid_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<gid_t> groups;
  uint64_t cap_effective = kAllCaps;
  uint64_t cap_permitted = kAllCaps;
  uint64_t cap_inheritable = 0;
  uint64_t cap_bounding = kAllCaps;
  uint64_t cap_ambient = 0;
  uint32_t securebits = 0;  // SECBIT_* of linux/securebits.h

  // The credentials a process started by the sandbox begins with: root
  // holds every capability, any other uid none (the bounding set is full).
  static Credentials ForUser(uid_t uid, gid_t gid, std::vector<gid_t> groups);

  bool InGroup(gid_t g) const;
  // May the fs identity access a file with this mode/owner for the
  // requested MAY_* bits (4=read, 2=write, 1=exec)? Follows
  // generic_permission(): owner, group, other, then root override (exec
  // needs at least one x bit even for root).
  bool CanAccess(uint32_t mode, uid_t uid, gid_t gid, int may) const;
  bool HasCap(int cap) const { return cap >= 0 && CapValid(cap) && (cap_effective & CapBit(cap)); }
  bool SecureBit(int bit) const { return securebits & (1u << bit); }

  // capabilities(7) "Effect of user ID changes on capabilities", after
  // set[res]uid/setreuid changed ruid/euid/suid from those of `old`
  // (cap_emulate_setxuid; nothing with SECBIT_NO_SETUID_FIXUP).
  void FixupAfterUidChange(const Credentials& old);
  // ... and after setfsuid changed the fsuid: the file-system
  // capabilities leave or return to the effective set.
  void FixupAfterFsuidChange(const Credentials& old);
  // execve(2) of a file without capabilities or set-ID bits: the
  // "Transformation of capabilities during execve()" with the root rules
  // (unless SECBIT_NOROOT); saved and fs ids follow the effective ones,
  // SECBIT_KEEP_CAPS is cleared.
  void TransformForExec();

  // capset(2)'s rules (cap_capset): EPERM if the new sets would gain
  // anything they may not. Applies them on success.
  Errno Capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
};

}  // namespace palisade
