#include "sentry/kernel/credentials.h"

#include <linux/securebits.h>
#include <sys/stat.h>

#include <algorithm>

namespace palisade {

namespace {

// The capabilities that follow the fsuid (CAP_FS_SET of linux/capability.h
// in the kernel): dropped from the effective set when the fsuid leaves 0.
constexpr uint64_t kFsCaps = CapBit(CAP_CHOWN) | CapBit(CAP_DAC_OVERRIDE) | CapBit(CAP_DAC_READ_SEARCH) |
                             CapBit(CAP_FOWNER) | CapBit(CAP_FSETID) | CapBit(CAP_MKNOD) |
                             CapBit(CAP_LINUX_IMMUTABLE) | CapBit(CAP_MAC_OVERRIDE);

bool Subset(uint64_t a, uint64_t b) { return (a & ~b) == 0; }

}  // namespace

Credentials Credentials::ForUser(uid_t uid, gid_t gid, std::vector<gid_t> groups) {
  Credentials c;
  c.ruid = c.euid = c.suid = c.fsuid = uid;
  c.rgid = c.egid = c.sgid = c.fsgid = gid;
  c.groups = std::move(groups);
  c.cap_effective = c.cap_permitted = uid == 0 ? kAllCaps : 0;
  return c;
}

bool Credentials::InGroup(gid_t g) const {
  return static_cast<gid_t>(g) == fsgid || std::find(groups.begin(), groups.end(), g) != groups.end();
}

bool Credentials::CanAccess(uint32_t mode, uid_t uid, gid_t gid, int may) const {
  uint32_t bits;
  if (fsuid == uid) {
    bits = (mode >> 6) & 7;
  } else if (InGroup(gid)) {
    bits = (mode >> 3) & 7;
  } else {
    bits = mode & 7;
  }
  if ((bits & static_cast<uint32_t>(may)) == static_cast<uint32_t>(may)) return true;
  if (HasCap(CAP_DAC_OVERRIDE)) {
    // Root may read/write anything; execute needs some x bit (or a dir).
    if (!(may & 1)) return true;
    if (S_ISDIR(mode) || (mode & 0111)) return true;
  }
  if (HasCap(CAP_DAC_READ_SEARCH) && !(may & 2)) {
    if (!(may & 1) || S_ISDIR(mode)) return true;
  }
  return false;
}

void Credentials::FixupAfterUidChange(const Credentials& old) {
  if (SecureBit(SECURE_NO_SETUID_FIXUP)) return;
  const bool had_root = old.ruid == 0 || old.euid == 0 || old.suid == 0;
  const bool has_root = ruid == 0 || euid == 0 || suid == 0;
  if (had_root && !has_root) {
    if (!SecureBit(SECURE_KEEP_CAPS)) {
      cap_permitted = 0;
      cap_effective = 0;
    }
    // Programs from before ambient capabilities expect setresuid to
    // non-root and then execve to drop every capability.
    cap_ambient = 0;
  }
  if (old.euid == 0 && euid != 0) cap_effective = 0;
  if (old.euid != 0 && euid == 0) cap_effective = cap_permitted;
}

void Credentials::FixupAfterFsuidChange(const Credentials& old) {
  if (SecureBit(SECURE_NO_SETUID_FIXUP)) return;
  if (old.fsuid == 0 && fsuid != 0) cap_effective &= ~kFsCaps;
  if (old.fsuid != 0 && fsuid == 0) cap_effective |= cap_permitted & kFsCaps;
}

void Credentials::TransformForExec() {
  // No file capabilities, so fP = fI = 0 and fE is clear, except that the
  // root rules treat them as all ones for a root caller.
  uint64_t permitted = 0;
  bool effective = false;
  if (!SecureBit(SECURE_NOROOT)) {
    if (euid == 0 || ruid == 0) permitted = cap_bounding | cap_inheritable;
    // "If only the real uid is 0, we do not set the effective bit."
    if (euid == 0) effective = true;
  }
  // P'(ambient) survives: the file is not privileged (no file caps, no
  // set-ID bits); it stays a subset of P(permitted) and P(inheritable).
  cap_ambient &= cap_permitted & cap_inheritable;
  cap_permitted = permitted | cap_ambient;
  cap_effective = effective ? cap_permitted : cap_ambient;
  suid = fsuid = euid;
  sgid = fsgid = egid;
  securebits &= ~SECBIT_KEEP_CAPS;
}

Errno Credentials::Capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  effective &= kAllCaps;
  permitted &= kAllCaps;
  inheritable &= kAllCaps;
  // Without CAP_SETPCAP the inheritable set may only gain what is
  // permitted; nobody may add to it outside the bounding set.
  if (!HasCap(CAP_SETPCAP) && !Subset(inheritable, cap_inheritable | cap_permitted)) return Errno(EPERM);
  if (!Subset(inheritable, cap_inheritable | cap_bounding)) return Errno(EPERM);
  if (!Subset(permitted, cap_permitted)) return Errno(EPERM);
  if (!Subset(effective, permitted)) return Errno(EPERM);
  cap_effective = effective;
  cap_permitted = permitted;
  cap_inheritable = inheritable;
  // The ambient set stays within the permitted and inheritable sets.
  cap_ambient &= permitted & inheritable;
  return Errno::Ok();
}

}  // namespace palisade
