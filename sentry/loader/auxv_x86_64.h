// The ELF auxiliary vector a new x86-64 program gets (Linux's
// create_elf_tables() and ARCH_DLINFO), in Linux's order. Hardware
// capabilities come from the host, because the application runs on the
// host CPU. AT_SYSINFO_EHDR points at the sentry's vDSO (vdso.h), which
// serves clock_gettime and friends without trapping.
//
//   std::vector<AuxEntry> auxv = BuildAuxv({.phdr = ..., .entry = ...});
//   req.auxv = auxv;  // BuildStackImage fills AT_RANDOM/AT_PLATFORM/AT_EXECFN
#pragma once

#include <cstdint>
#include <vector>

#include "sentry/loader/stack.h"

namespace palisade::loader {

struct AuxvInputs {
  uint64_t phdr = 0;    // AT_PHDR: the main binary's program headers, biased
  uint64_t phnum = 0;   // AT_PHNUM
  uint64_t base = 0;    // AT_BASE: the interpreter's load bias, 0 without one
  uint64_t entry = 0;   // AT_ENTRY: the main binary's entry, biased
  uint64_t sysinfo_ehdr = 0;  // AT_SYSINFO_EHDR: the vDSO's address (0: none, entry omitted)
  uint32_t uid = 0, euid = 0, gid = 0, egid = 0;
};

// The host's values, probed once (cpuid, getauxval).
struct HostAuxv {
  uint64_t hwcap = 0;        // AT_HWCAP: CPUID leaf 1 EDX on x86-64
  uint64_t hwcap2 = 0;       // AT_HWCAP2: ring3mwait, fsgsbase
  uint64_t minsigstksz = 0;  // AT_MINSIGSTKSZ (0: host predates it; entry omitted)
};
const HostAuxv& GetHostAuxv();

// The entries in Linux's order, without AT_NULL. AT_RANDOM, AT_PLATFORM
// and AT_EXECFN carry 0 until BuildStackImage() places their data.
std::vector<AuxEntry> BuildAuxv(const AuxvInputs& in, const HostAuxv& host = GetHostAuxv());

}  // namespace palisade::loader
