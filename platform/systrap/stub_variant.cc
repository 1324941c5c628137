#include "platform/systrap/stub_variant.h"

#include <sys/auxv.h>

#include <cstdlib>
#include <cstring>

#include "platform/stub/stub_x86_64.h"

namespace palisade::platform {
namespace {

constexpr unsigned long kHwcap2FsGsBase = 1UL << 1;  // HWCAP2_FSGSBASE (asm/hwcap2.h)

bool HostAllowsUserFsGsBase() {
  if (const char* e = std::getenv("PALISADE_SYSTRAP_FSGSBASE"); e != nullptr && std::strcmp(e, "0") == 0) {
    return false;
  }
  return (getauxval(AT_HWCAP2) & kHwcap2FsGsBase) != 0;
}

}  // namespace

SystrapStubVariant HostSystrapStubVariant() {
  if (HostAllowsUserFsGsBase()) {
    return {true, StubOffset(palisade_stub_systrap_handler_fsgs),
            StubOffset(palisade_stub_systrap_wait_fsgs)};
  }
  return {false, StubOffset(palisade_stub_systrap_handler_arch),
          StubOffset(palisade_stub_systrap_wait_arch)};
}

}  // namespace palisade::platform
