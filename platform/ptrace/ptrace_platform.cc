#include "platform/ptrace/ptrace_platform.h"

#include "base/status_macros.h"
#include "platform/ptrace/stub_factory.h"
#include "platform/ptrace/address_space.h"
#include "platform/ptrace/context.h"
#include "platform/ptrace/stub_process.h"

namespace palisade::platform {

absl::StatusOr<std::unique_ptr<Platform>> PtracePlatform::Create(int memfd) {
  if (memfd < 0) return absl::InvalidArgumentError("ptrace platform: invalid MemoryFile fd");
  PAL_ASSIGN_OR_RETURN(const StubPage* page, StubPage::Get());
  // Stubs come from the factory; start it now if the caller has not.
  PAL_RETURN_IF_ERROR(StubFactory::Start());
  return std::unique_ptr<Platform>(new PtracePlatform(*page, memfd));
}

std::unique_ptr<AddressSpace> PtracePlatform::NewAddressSpace() {
  return std::make_unique<PtraceAddressSpace>(kMinUserAddress, kMaxUserAddress);
}

absl::StatusOr<std::unique_ptr<Context>> PtracePlatform::NewContext() {
  PAL_ASSIGN_OR_RETURN(std::unique_ptr<StubProcess> stub, StubProcess::Spawn(page_, memfd_));
  return std::unique_ptr<Context>(
      new PtraceContext(std::move(stub), kMinUserAddress, kMaxUserAddress));
}

}  // namespace palisade::platform
