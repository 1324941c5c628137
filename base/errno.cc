#include "base/errno.h"

#include <string.h>

namespace palisade {

std::string Errno::Name() const {
  if (value_ == 0) return "OK";
  switch (value_) {
    case kERESTARTSYS: return "ERESTARTSYS";
    case kERESTARTNOINTR: return "ERESTARTNOINTR";
    case kERESTARTNOHAND: return "ERESTARTNOHAND";
    case kERESTART_RESTARTBLOCK: return "ERESTART_RESTARTBLOCK";
  }
  // glibc's strerrorname_np gives "ENOENT"-style names.
  const char* n = strerrorname_np(value_);
  return n ? n : "E" + std::to_string(value_);
}

}  // namespace palisade
