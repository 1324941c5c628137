// Carries the loader's plans out on a MemoryManager: the PT_LOAD steps of
// an ELF image (choosing its load bias) and the stack VMA. Kept apart from
// the pure planning in elf_plan.h and layout.h.
//
//   PAL_TRY_ERRNO(MapStack(mm, layout));
//   PAL_TRY(ElfPlan main, MapElf(mm, mappable, info, ElfRole::kMain));
#pragma once

#include <memory>

#include "base/errno.h"
#include "sentry/loader/elf.h"
#include "sentry/loader/elf_plan.h"
#include "sentry/loader/layout.h"
#include "sentry/mm/memory_manager.h"

namespace palisade::loader {

enum class ElfRole {
  kMain,         // the executed file: ET_EXEC at its addresses, ET_DYN at MainPieBias()
  kInterpreter,  // PT_INTERP (ld.so): ET_DYN goes top-down below mmap_base
};

// Maps info's segments from file into mm and zeroes the bss. Returns the
// plan with its bias. mm's errors pass through (ENOMEM, EINVAL...).
// REQUIRES: mm is the fresh address space of this exec; for kInterpreter,
// set_mmap_base() was already called.
ErrnoOr<ElfPlan> MapElf(MemoryManager& mm, const std::shared_ptr<MappableFile>& file, const ElfInfo& info,
                        ElfRole role);

// Maps the "[stack]" VMA [stack_bottom, stack_top), read-write and
// MAP_GROWSDOWN, and sets the mmap base under it.
Errno MapStack(MemoryManager& mm, const AddressLayout& layout);

}  // namespace palisade::loader
