// Which copy of the systrap handler/wait code a stub runs (stub_x86_64.S).
// fs_base/gs_base are not part of a signal frame, so the stub saves and
// restores them around every hand-off: with rdfsbase/wrfsbase when the
// host kernel enables FSGSBASE for user space (Linux >= 5.9 on CPUs that
// have it, reported in AT_HWCAP2), which costs no syscall; otherwise with
// four arch_prctl calls per trap, and the stub filter must allow them.
#pragma once

#include <cstdint>

namespace palisade::platform {

struct SystrapStubVariant {
  bool fsgsbase;     // rdfsbase/wrfsbase instead of arch_prctl
  uint64_t handler;  // offsets in the stub page
  uint64_t wait;
};

// The variant for this host. PALISADE_SYSTRAP_FSGSBASE=0 in the environment
// forces the arch_prctl one (to test it on hosts that have FSGSBASE).
SystrapStubVariant HostSystrapStubVariant();

}  // namespace palisade::platform
