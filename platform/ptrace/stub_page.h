// StubPage: the one read+exec page of stub code (platform/stub/) that the
// sentry maps at a fixed address above the application range. Stub
// processes come from the stub factory, forked from the sentry after the
// page was mapped (StubFactory::Get maps it first), so they inherit it at the
// same address; after their unmap_all routine it is all they have. One page
// serves every PtracePlatform of the process, because the address is fixed;
// once mapped it stays for the life of the process (4 KiB), which avoids
// any race between one platform going away and the next one mapping it.
//
//   PAL_ASSIGN_OR_RETURN(const StubPage* page, StubPage::Get());
//   regs.rip = page->syscall_insn();
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace palisade::platform {

class StubPage {
 public:
  // Above PtracePlatform's MaxUserAddress (0x7c0000000000), below the
  // sentry's usual mmap area near 0x7fxxxxxxxxxx.
  static constexpr uint64_t kAddress = 0x7d0000000000;
  static constexpr uint64_t kSize = 4096;

  // Maps the page on first use; later calls return the same page. Fails
  // (naming the address) if something else already occupies it.
  static absl::StatusOr<const StubPage*> Get();
  StubPage(const StubPage&) = delete;
  StubPage& operator=(const StubPage&) = delete;

  // Addresses of the stub routines (see stub_x86_64.S).
  uint64_t unmap_all() const;
  uint64_t unmap_all_done() const;  // rip once unmap_all trapped
  uint64_t syscall_insn() const;
  uint64_t syscall_done() const;    // rip once an injected syscall trapped

 private:
  StubPage() = default;
};

}  // namespace palisade::platform
