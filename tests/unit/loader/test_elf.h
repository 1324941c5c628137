// Helpers for loader unit tests: a small in-memory ELF64 image builder
// (so each validation rule is hit by flipping one field) and a reader of
// real files on the build machine (tests skip when one is missing).
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace palisade::loader::testing {

// A minimal valid x86-64 executable: an ELF header, `phdrs` after it, and
// file bytes up to `size`.
struct TestElf {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> phdrs;
  size_t size = 0x3000;

  TestElf() {
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x401000;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    // Text: the first two pages (headers included), then data + bss.
    phdrs.push_back(Load(0x400000, 0, 0x2000, 0x2000, PF_R | PF_X));
    phdrs.push_back(Load(0x602100, 0x2100, 0x800, 0x3000, PF_R | PF_W));
  }

  static Elf64_Phdr Load(uint64_t vaddr, uint64_t off, uint64_t filesz, uint64_t memsz, uint32_t flags) {
    Elf64_Phdr p{};
    p.p_type = PT_LOAD;
    p.p_vaddr = p.p_paddr = vaddr;
    p.p_offset = off;
    p.p_filesz = filesz;
    p.p_memsz = memsz;
    p.p_flags = flags;
    p.p_align = 0x1000;
    return p;
  }

  // Adds PT_INTERP with `path` (NUL included unless drop_nul) at offset 0x1000.
  void AddInterp(const std::string& path, bool drop_nul = false) {
    Elf64_Phdr p{};
    p.p_type = PT_INTERP;
    p.p_offset = 0x1000;
    p.p_filesz = path.size() + (drop_nul ? 0 : 1);
    p.p_flags = PF_R;
    phdrs.push_back(p);
    interp = path;
  }

  std::vector<uint8_t> Bytes() {
    eh.e_phnum = static_cast<uint16_t>(phdrs.size());
    std::vector<uint8_t> b(size);
    std::memcpy(b.data(), &eh, std::min(sizeof(eh), b.size()));
    size_t table = phdrs.size() * sizeof(Elf64_Phdr);
    if (eh.e_phoff <= b.size() && table <= b.size() - eh.e_phoff) std::memcpy(b.data() + eh.e_phoff, phdrs.data(), table);
    if (interp && 0x1000 + interp->size() <= b.size()) std::memcpy(b.data() + 0x1000, interp->data(), interp->size());
    return b;
  }

  std::optional<std::string> interp;
};

// The whole file, or nullopt if it cannot be read.
inline std::optional<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  std::vector<uint8_t> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    return std::nullopt;
  }
  return bytes;
}

}  // namespace palisade::loader::testing
