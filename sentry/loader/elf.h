// ELF64 header parsing for execve: pure functions over bytes, so the
// checks Linux's binfmt_elf makes (load_elf_binary, load_elf_phdrs) are
// unit-tested without a Task or a MemoryManager. Only x86-64 little-endian
// ET_EXEC / ET_DYN images are accepted; anything else is ENOEXEC, as Linux
// reports when no binary format handler claims a file.
//
// The loader reads a file in two steps (the header, then the program
// header table at e_phoff); tests with a whole file in memory use
// ParseElfHeaders().
//
//   PAL_TRY(ElfHeader h, ParseElfHeader(head, file_size));
//   PAL_TRY(ElfInfo info, ParseProgramHeaders(h, phdr_bytes, file_size));
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/errno.h"

namespace palisade::loader {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t PageDown(uint64_t a) { return a & ~(kPageSize - 1); }
inline constexpr uint64_t PageUp(uint64_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }

inline constexpr size_t kElfHeaderSize = 64;   // sizeof(Elf64_Ehdr)
inline constexpr size_t kElfPhdrSize = 56;     // sizeof(Elf64_Phdr)
// load_elf_phdrs() bounds the table at 64 KiB (65536 / 56 = 1170 headers):
// every real binary fits, and it bounds what the sentry reads.
inline constexpr size_t kMaxPhdrBytes = 65536;
// PT_INTERP paths longer than PATH_MAX are refused (binfmt_elf does the same).
inline constexpr size_t kMaxInterpPath = 4096;
// Highest address an ELF segment may reach: the platform's MaxUserAddress.
inline constexpr uint64_t kMaxUserAddress = 0x7c0000000000;

// The part of Elf64_Ehdr the loader uses, validated.
struct ElfHeader {
  uint16_t type = 0;   // ET_EXEC or ET_DYN
  uint64_t entry = 0;  // e_entry (unbiased)
  uint64_t phoff = 0;  // e_phoff
  uint16_t phnum = 0;  // e_phnum, >= 1
  size_t PhdrBytes() const { return size_t{phnum} * kElfPhdrSize; }
};

// One PT_LOAD segment (unbiased addresses).
struct ElfSegment {
  uint64_t vaddr = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
  int prot = 0;  // PROT_* from PF_R / PF_W / PF_X
  uint64_t align = 0;
};

struct ElfInfo {
  uint16_t type = 0;
  uint64_t entry = 0;
  uint64_t phoff = 0;
  uint16_t phnum = 0;
  std::vector<ElfSegment> loads;  // PT_LOAD in file order (ascending vaddr per the spec)
  // PT_INTERP, if any: where the path lies in the file. `interp` is filled
  // by ParseElfHeaders() (whole file) or by the loader after reading it.
  bool has_interp = false;
  uint64_t interp_offset = 0;
  uint64_t interp_size = 0;
  std::string interp;
  // Unbiased address of the program header table in memory (AT_PHDR):
  // PT_PHDR's p_vaddr, else the PT_LOAD whose file range holds e_phoff,
  // else 0 (Linux passes 0 too; such binaries cannot find their headers).
  uint64_t phdr_vaddr = 0;
  bool exec_stack = false;  // PT_GNU_STACK with PF_X; ignored (stack is rw)
  uint64_t min_vaddr = 0;   // page-aligned start of the lowest PT_LOAD
  uint64_t max_vaddr = 0;   // page-aligned end of the highest PT_LOAD (memsz)
  uint64_t max_align = kPageSize;  // largest power-of-two p_align >= a page
};

// Validates the ELF header (the first bytes of the file; fewer than 64 is
// ENOEXEC): magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, EM_X86_64,
// ET_EXEC/ET_DYN, e_phentsize, 1 <= e_phnum with a table of at most
// kMaxPhdrBytes lying inside the file (file_size bytes).
ErrnoOr<ElfHeader> ParseElfHeader(std::span<const uint8_t> bytes, int64_t file_size);

// Validates the program header table (`phdrs` = h.PhdrBytes() bytes read at
// h.phoff). ENOEXEC for: no PT_LOAD, p_filesz > p_memsz, a file range
// beyond EOF (a truncated file; Linux would map it and fault later), a
// vaddr/offset pair that is not congruent modulo the page size, an address
// range that overflows or reaches kMaxUserAddress, a bad PT_INTERP size.
ErrnoOr<ElfInfo> ParseProgramHeaders(const ElfHeader& h, std::span<const uint8_t> phdrs,
                                     int64_t file_size);

// The PT_INTERP bytes as a path: must end with the NUL that terminates the
// string (ENOEXEC otherwise) and name something (not "").
ErrnoOr<std::string> ParseInterpPath(std::span<const uint8_t> bytes);

// All of the above over a whole file image (tests, small files).
ErrnoOr<ElfInfo> ParseElfHeaders(std::span<const uint8_t> file);

// True if bytes start with the ELF magic, whatever else is wrong.
bool HasElfMagic(std::span<const uint8_t> bytes);

}  // namespace palisade::loader
