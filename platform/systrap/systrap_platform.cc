#include "platform/systrap/systrap_platform.h"

#include "base/status_macros.h"
#include "platform/ptrace/stub_factory.h"
#include "platform/ptrace/address_space.h"
#include "platform/stub/systrap_abi.h"
#include "platform/systrap/context.h"
#include "platform/systrap/stub_filter.h"

namespace palisade::platform {

static_assert(PALISADE_SYSTRAP_CONTROL_ADDR >= StubPage::kAddress + StubPage::kSize);
static_assert(SystrapPlatform::kMaxUserAddress <= StubPage::kAddress);

absl::StatusOr<std::unique_ptr<Platform>> SystrapPlatform::Create(int memfd) {
  if (memfd < 0) return absl::InvalidArgumentError("systrap platform: invalid MemoryFile fd");
  PAL_ASSIGN_OR_RETURN(const StubPage* page, StubPage::Get());
  // Stubs come from the factory; start it now if the caller has not.
  PAL_RETURN_IF_ERROR(StubFactory::Start());
  const SystrapStubVariant variant = HostSystrapStubVariant();
  PAL_ASSIGN_OR_RETURN(std::vector<sock_filter> filter, BuildSystrapFilter(!variant.fsgsbase));
  return std::unique_ptr<Platform>(new SystrapPlatform(*page, memfd, std::move(filter), variant));
}

std::unique_ptr<AddressSpace> SystrapPlatform::NewAddressSpace() {
  return std::make_unique<SystrapAddressSpace>(kMinUserAddress, kMaxUserAddress);
}

absl::StatusOr<std::shared_ptr<SystrapProcess>> SystrapPlatform::MakeProcess() {
  return SystrapProcess::Create(page_, memfd_, filter_, variant_, kMinUserAddress, kMaxUserAddress);
}

absl::StatusOr<std::shared_ptr<SystrapProcess>> SystrapPlatform::TakeProcess() {
  if (std::shared_ptr<SystrapProcess> spare = pool_.Take()) return spare;
  return MakeProcess();
}

absl::StatusOr<std::unique_ptr<Context>> SystrapPlatform::NewContext() {
  // The host thread comes at the first Switch, in the process of the
  // address space it runs in.
  return std::unique_ptr<Context>(new SystrapContext([this] { return TakeProcess(); }));
}

}  // namespace palisade::platform
