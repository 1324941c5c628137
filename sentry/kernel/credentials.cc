#include "sentry/kernel/credentials.h"

#include <linux/capability.h>
#include <sys/stat.h>

#include <algorithm>

namespace palisade {

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

}  // namespace palisade
