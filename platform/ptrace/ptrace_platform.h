// PtracePlatform: runs application threads as ptrace'd host processes
// (one stub process per Context, see context.h), the way gVisor's ptrace
// platform does. It works anywhere ptrace does (no KVM, no special kernel
// feature beyond Linux 5.13), at the cost of several host context switches
// per app syscall.
//
//   auto p = PtracePlatform::Create(memfd);  // or Platform::Create("ptrace", memfd)
//   auto as = (*p)->NewAddressSpace();
//   auto ctx = (*p)->NewContext();            // on the task's thread
//
// Host requirements: ptrace allowed (Yama scope <= 1 works since the
// sentry is an ancestor of every stub: they are children of the stub
// factory, its child; see stub_factory.h), PTRACE_GET_RSEQ_CONFIGURATION
// (5.13), pidfds (5.3), close_range (5.9), and the address StubPage::kAddress
// free in the sentry. Stubs do not inherit a seccomp filter the sentry
// installs after starting the factory.
// The sentry must never wait for "any child" (wait(), waitpid(-1)): stubs
// are tracees of task threads, and such a wait would steal their stops.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "platform/ptrace/stub_page.h"

namespace palisade::platform {

class PtracePlatform final : public Platform {
 public:
  static constexpr uint64_t kMinUserAddress = 0x10000;
  // Leaves room above for the stub page; 47-bit hosts end at 0x7ffffffff000.
  static constexpr uint64_t kMaxUserAddress = 0x7c0000000000;
  static_assert(kMaxUserAddress <= StubPage::kAddress);

  // memfd: the MemoryFile; it must stay open while the platform is used
  // (each stub holds its own duplicate). Maps the stub page if needed.
  static absl::StatusOr<std::unique_ptr<Platform>> Create(int memfd);

  std::unique_ptr<AddressSpace> NewAddressSpace() override;
  // Gets a stub from the factory, traced by the calling thread. The Context must then be
  // driven from this thread only (Interrupt() aside).
  absl::StatusOr<std::unique_ptr<Context>> NewContext() override;
  uint64_t MinUserAddress() const override { return kMinUserAddress; }
  uint64_t MaxUserAddress() const override { return kMaxUserAddress; }

 private:
  PtracePlatform(const StubPage& page, int memfd) : page_(page), memfd_(memfd) {}

  const StubPage& page_;
  const int memfd_;
};

}  // namespace palisade::platform
