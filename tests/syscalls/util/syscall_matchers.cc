#include "tests/syscalls/util/syscall_matchers.h"

#include <string.h>

namespace palisade::testing {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  if (name == nullptr) return "errno " + std::to_string(err);
  return std::string(name) + " (" + strerror(err) + ")";
}

}  // namespace palisade::testing
