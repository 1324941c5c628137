#include "sentry/loader/layout.h"

namespace palisade::loader {

AddressLayout ChooseLayout(const std::array<uint64_t, 3>& random) {
  AddressLayout l;
  l.stack_top = kStackTopMax - (random[0] % kStackRandomPages) * kPageSize;
  l.stack_bottom = l.stack_top - kStackReserve;
  l.mmap_base = l.stack_top - kMmapGap - (random[1] % kMmapRandomPages) * kPageSize;
  l.stack_pad = random[2] % kStackPadRange;
  return l;
}

uint64_t MainPieBias(const ElfInfo& info) {
  // ELF_ET_DYN_BASE honours a segment alignment above a page (2 MiB for
  // huge-page-aligned binaries), as Linux 5.10+ does.
  uint64_t base = kPieBase & ~(info.max_align - 1);
  return base - info.min_vaddr;
}

}  // namespace palisade::loader
