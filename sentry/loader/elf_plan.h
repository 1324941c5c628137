// Where an ELF image's PT_LOAD segments go for a given load bias: the
// exact list of mmap and zeroing steps binfmt_elf's elf_load() performs,
// plus the code/data/brk bounds the process layout records. Pure, so the
// mapping of real binaries is unit-tested without a MemoryManager;
// mapping.cc carries the steps out.
//
//   PAL_TRY(ElfPlan plan, PlanElfMapping(info, /*bias=*/0));
//   for (const MapStep& s : plan.steps) ...
#pragma once

#include <cstdint>
#include <vector>

#include "base/errno.h"
#include "sentry/loader/elf.h"

namespace palisade::loader {

struct MapStep {
  enum class Kind {
    kFile,  // MAP_PRIVATE mapping of the file at `offset`, exactly at addr
    kAnon,  // MAP_PRIVATE|MAP_ANONYMOUS exactly at addr (bss past the file's last page)
    kZero,  // write zeros over [addr, addr+len), whatever the protection
  };
  Kind kind = Kind::kFile;
  uint64_t addr = 0;  // page aligned except for kZero
  uint64_t len = 0;   // page multiple except for kZero
  int prot = 0;
  uint64_t offset = 0;  // kFile: page-aligned file offset
};

struct ElfPlan {
  uint64_t bias = 0;
  std::vector<MapStep> steps;  // in order: a later step may overlay an earlier one
  uint64_t entry = 0;          // e_entry + bias
  uint64_t phdr = 0;           // AT_PHDR (0 if the table is not mapped)
  // Linux's mm fields, biased: start_code/end_code span PF_X segments'
  // file bytes (0 if none); start_data is the highest segment start and
  // end_data the highest file-bytes end; brk is the page after the
  // highest memsz end, where the heap begins.
  uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
  uint64_t brk = 0;
};

// The steps that map info at bias (0 for ET_EXEC). EINVAL if the biased
// image would not lie inside [0, kMaxUserAddress), as Linux's TASK_SIZE
// check does.
ErrnoOr<ElfPlan> PlanElfMapping(const ElfInfo& info, uint64_t bias);

}  // namespace palisade::loader
