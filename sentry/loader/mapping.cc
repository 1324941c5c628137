#include "sentry/loader/mapping.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <vector>

namespace palisade::loader {
namespace {

// Finds a free range for an ET_DYN interpreter the way mmap(NULL, ...)
// would, with room to honour its alignment, and returns the bias that
// puts its lowest page there. The probe mapping is removed again so the
// segments can be mapped MAP_FIXED into the hole.
ErrnoOr<uint64_t> ChooseInterpreterBias(MemoryManager& mm, const ElfInfo& info) {
  uint64_t span = info.max_vaddr - info.min_vaddr;
  uint64_t slack = info.max_align > kPageSize ? info.max_align - kPageSize : 0;
  MmapOptions o;
  o.len = span + slack;
  o.prot = PROT_NONE;
  o.flags = MAP_PRIVATE | MAP_ANONYMOUS;
  PAL_TRY(uint64_t probe, mm.Mmap(o));
  PAL_TRY_ERRNO(mm.Munmap(probe, span + slack));
  uint64_t start = (probe + info.max_align - 1) & ~(info.max_align - 1);
  return start - info.min_vaddr;
}

// fixed: MAP_FIXED or MAP_FIXED_NOREPLACE (see MapElf).
Errno RunStep(MemoryManager& mm, const std::shared_ptr<MappableFile>& file, const MapStep& s, int fixed) {
  MmapOptions o;
  o.addr = s.addr;
  o.len = s.len;
  o.prot = s.prot;
  switch (s.kind) {
    case MapStep::Kind::kFile:
      o.flags = MAP_PRIVATE | fixed;
      o.file = file;
      o.offset = static_cast<int64_t>(s.offset);
      return mm.Mmap(o).error();
    case MapStep::Kind::kAnon:
      o.flags = MAP_PRIVATE | MAP_ANONYMOUS | fixed;
      return mm.Mmap(o).error();
    case MapStep::Kind::kZero: {
      // Forced: a read-only segment's bss tail must read as zero too
      // (Linux skips it there and leaves file bytes; zero is what the ELF
      // spec promises). Less than a page by construction.
      std::vector<uint8_t> zeros(s.len);
      return mm.CopyOutForce(s.addr, zeros.data(), zeros.size());
    }
  }
  return Errno(EINVAL);
}

}  // namespace

ErrnoOr<ElfPlan> MapElf(MemoryManager& mm, const std::shared_ptr<MappableFile>& file, const ElfInfo& info,
                        ElfRole role) {
  uint64_t bias = 0;
  if (info.type == ET_DYN) {
    if (role == ElfRole::kMain) {
      bias = MainPieBias(info);
    } else {
      PAL_TRY(bias, ChooseInterpreterBias(mm, info));
    }
  }
  PAL_TRY(ElfPlan plan, PlanElfMapping(info, bias));
  // A step over fresh addresses must not replace anything (the stack, or
  // the main image under an interpreter): EEXIST, as Linux's
  // MAP_FIXED_NOREPLACE. A step sharing a page with the previous segment
  // of the same image replaces it, as in Linux.
  uint64_t mapped_end = 0;
  for (const MapStep& s : plan.steps) {
    int fixed = s.addr >= mapped_end ? MAP_FIXED_NOREPLACE : MAP_FIXED;
    PAL_TRY_ERRNO(RunStep(mm, file, s, fixed));
    if (s.kind != MapStep::Kind::kZero) mapped_end = std::max(mapped_end, s.addr + s.len);
  }
  return plan;
}

Errno MapStack(MemoryManager& mm, const AddressLayout& layout) {
  MmapOptions o;
  o.addr = layout.stack_bottom;
  o.len = layout.stack_top - layout.stack_bottom;
  o.prot = PROT_READ | PROT_WRITE;
  o.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN;
  o.name = "[stack]";
  PAL_TRY_ERRNO(mm.Mmap(o).error());
  mm.set_mmap_base(layout.mmap_base);
  return Errno::Ok();
}

}  // namespace palisade::loader
