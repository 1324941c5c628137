#include "sentry/loader/auxv_x86_64.h"

#include <cpuid.h>
#include <elf.h>
#include <sys/auxv.h>

#include "sentry/loader/elf.h"

namespace palisade::loader {
namespace {

HostAuxv ProbeHost() {
  HostAuxv h;
  // Linux's ELF_HWCAP on x86-64 is CPUID.1:EDX (less any feature the
  // kernel disabled). Not getauxval(AT_HWCAP): glibc answers that with
  // its own dl_hwcap, which on x86-64 is HWCAP_X86_64 (2), not the kernel's.
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) h.hwcap = edx;
  h.hwcap2 = getauxval(AT_HWCAP2);
  h.minsigstksz = getauxval(AT_MINSIGSTKSZ);
  return h;
}

}  // namespace

const HostAuxv& GetHostAuxv() {
  static const HostAuxv host = ProbeHost();
  return host;
}

std::vector<AuxEntry> BuildAuxv(const AuxvInputs& in, const HostAuxv& host) {
  std::vector<AuxEntry> v;
  // ARCH_DLINFO comes first on x86-64, AT_SYSINFO_EHDR first of all.
  if (in.sysinfo_ehdr != 0) v.push_back({AT_SYSINFO_EHDR, in.sysinfo_ehdr});
  if (host.minsigstksz != 0) v.push_back({AT_MINSIGSTKSZ, host.minsigstksz});
  v.push_back({AT_HWCAP, host.hwcap});
  v.push_back({AT_PAGESZ, kPageSize});
  v.push_back({AT_CLKTCK, 100});  // USER_HZ: what times(2) and /proc count in
  v.push_back({AT_PHDR, in.phdr});
  v.push_back({AT_PHENT, kElfPhdrSize});
  v.push_back({AT_PHNUM, in.phnum});
  v.push_back({AT_BASE, in.base});
  v.push_back({AT_FLAGS, 0});
  v.push_back({AT_ENTRY, in.entry});
  v.push_back({AT_UID, in.uid});
  v.push_back({AT_EUID, in.euid});
  v.push_back({AT_GID, in.gid});
  v.push_back({AT_EGID, in.egid});
  // No set-id execution yet, so the program never runs with more
  // privilege than its caller and glibc need not sanitise its environment.
  v.push_back({AT_SECURE, 0});
  v.push_back({AT_RANDOM, 0});
  v.push_back({AT_HWCAP2, host.hwcap2});
  v.push_back({AT_EXECFN, 0});
  v.push_back({AT_PLATFORM, 0});
  return v;
}

}  // namespace palisade::loader
