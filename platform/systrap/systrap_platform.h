// SystrapPlatform: runs application threads in stub processes under a
// seccomp filter that traps every app syscall into a SIGSYS handler in the
// stub (context.h, stub_filter.h), the way gVisor's systrap platform does.
// No ptrace stop per syscall, so it is several times faster than the
// ptrace platform; ptrace is used only to set a stub up and to change its
// mappings.
//
//   auto p = Platform::Create("systrap", memfd);
//
// Host requirements: those of the ptrace platform (ptrace_platform.h),
// plus seccomp filters with SECCOMP_RET_TRAP/RET_TRACE (Linux 3.5+) and
// memfd_create.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "platform/ptrace/ptrace_platform.h"
#include "platform/ptrace/stub_page.h"
#include "platform/systrap/process_pool.h"
#include "platform/systrap/stub_variant.h"

namespace palisade::platform {

class SystrapPlatform final : public Platform {
 public:
  // The same application range as ptrace: the stub page and each stub's
  // shared region lie above it, where the app can never map.
  static constexpr uint64_t kMinUserAddress = PtracePlatform::kMinUserAddress;
  static constexpr uint64_t kMaxUserAddress = PtracePlatform::kMaxUserAddress;

  static absl::StatusOr<std::unique_ptr<Platform>> Create(int memfd);

  std::unique_ptr<AddressSpace> NewAddressSpace() override;
  absl::StatusOr<std::unique_ptr<Context>> NewContext() override;
  uint64_t MinUserAddress() const override { return kMinUserAddress; }
  uint64_t MaxUserAddress() const override { return kMaxUserAddress; }

 private:
  SystrapPlatform(const StubPage& page, int memfd, std::vector<sock_filter> filter,
                  SystrapStubVariant variant)
      : page_(page),
        memfd_(memfd),
        filter_(std::move(filter)),
        variant_(variant),
        pool_([this] { return MakeProcess(); }) {}
  absl::StatusOr<std::shared_ptr<SystrapProcess>> MakeProcess();
  // The spare process if there is one, else a new one.
  absl::StatusOr<std::shared_ptr<SystrapProcess>> TakeProcess();

  const StubPage& page_;
  const int memfd_;
  const std::vector<sock_filter> filter_;  // every stub's seccomp program
  const SystrapStubVariant variant_;       // the stub code it allows
  ProcessPool pool_;                       // last: its thread uses the above
};

}  // namespace palisade::platform
