// Where a new program's stack, mmap area and PIE image go in the
// application address space. The sandbox must stay below the platform's
// MaxUserAddress (0x7c0000000000, where the stub code lives), so the stack
// top sits under it rather than at Linux's 0x7ffffffff000. Randomness comes
// in as numbers (the loader draws them with getrandom), keeping the choice
// itself a pure, testable function.
//
//   AddressLayout l = ChooseLayout(random_words);
//   // stack VMA [l.stack_bottom, l.stack_top); mm.set_mmap_base(l.mmap_base)
#pragma once

#include <array>
#include <cstdint>

#include "sentry/loader/elf.h"

namespace palisade::loader {

// The highest stack top: one page below MaxUserAddress.
inline constexpr uint64_t kStackTopMax = kMaxUserAddress - kPageSize;
// The stack VMA's size: RLIMIT_STACK's default. Anonymous memory costs
// nothing until touched, so the whole reserve is mapped at once.
inline constexpr uint64_t kStackReserve = 8ull << 20;
// The stack top moves down by up to this many pages (64 MiB).
inline constexpr uint64_t kStackRandomPages = 1ull << 14;
// mmap_base lies at least this far below the stack top (Linux's MIN_GAP),
// plus up to kMmapRandomPages pages (256 MiB).
inline constexpr uint64_t kMmapGap = 128ull << 20;
inline constexpr uint64_t kMmapRandomPages = 1ull << 16;
// Where a main ET_DYN image goes: ELF_ET_DYN_BASE without randomization,
// the address gdb users know.
inline constexpr uint64_t kPieBase = 0x555555554000;
// The random gap between the argument strings and the tables (Linux's
// arch_align_stack() subtracts up to 8 KiB).
inline constexpr uint64_t kStackPadRange = 8192;

struct AddressLayout {
  uint64_t stack_top = 0;     // exclusive end of the stack VMA, page aligned
  uint64_t stack_bottom = 0;  // stack_top - kStackReserve
  uint64_t mmap_base = 0;     // top-down mmap allocations start below this
  uint64_t stack_pad = 0;     // StackRequest::align_pad
};

// The layout for three random words (all zeros gives the highest, fixed one).
AddressLayout ChooseLayout(const std::array<uint64_t, 3>& random);

// The load bias of a main ET_DYN image: kPieBase rounded down to the
// image's alignment, minus its lowest address (modulo 2^64).
uint64_t MainPieBias(const ElfInfo& info);

}  // namespace palisade::loader
