// Credentials: the sandbox-level identity of a task (never the host's).
// Copied on clone; changed by set*id. Root (euid 0) bypasses DAC checks as
// CAP_DAC_OVERRIDE does, since a container's root holds that capability.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace palisade {

struct Credentials {
  uid_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<gid_t> groups;
  uint64_t cap_effective = ~0ull;  // meaningful bits: CAP_* of the task

  bool InGroup(gid_t g) const;
  // May the fs identity access a file with this mode/owner for the
  // requested MAY_* bits (4=read, 2=write, 1=exec)? Follows
  // generic_permission(): owner, group, other, then root override (exec
  // needs at least one x bit even for root).
  bool CanAccess(uint32_t mode, uid_t uid, gid_t gid, int may) const;
  bool HasCap(int cap) const { return cap_effective & (1ull << cap); }
};

}  // namespace palisade
