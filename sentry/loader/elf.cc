#include "sentry/loader/elf.h"

#include <elf.h>
#include <sys/mman.h>

#include <cstring>

namespace palisade::loader {
namespace {

const Errno kENOEXEC{ENOEXEC};

// Reads a T from untrusted bytes at off. memcpy because file bytes carry
// no alignment guarantee. REQUIRES: off + sizeof(T) <= b.size().
template <typename T>
T Load(std::span<const uint8_t> b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

int ProtFromFlags(uint32_t pf) {
  int prot = 0;
  if (pf & PF_R) prot |= PROT_READ;
  if (pf & PF_W) prot |= PROT_WRITE;
  if (pf & PF_X) prot |= PROT_EXEC;
  return prot;
}

// a + b without wrapping, or false.
bool AddNoOverflow(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

// Checks one PT_LOAD and records it; ENOEXEC if it cannot be mapped.
Errno AddLoad(const Elf64_Phdr& p, int64_t file_size, ElfInfo& info) {
  if (p.p_filesz > p.p_memsz) return kENOEXEC;
  uint64_t file_end, mem_end;
  if (!AddNoOverflow(p.p_offset, p.p_filesz, &file_end)) return kENOEXEC;
  // Segment bytes beyond EOF mean a truncated file: Linux maps it anyway
  // and the app dies of SIGBUS later; failing the exec is more useful.
  if (p.p_filesz > 0 && file_end > static_cast<uint64_t>(file_size)) return kENOEXEC;
  if (!AddNoOverflow(p.p_vaddr, p.p_memsz, &mem_end) || mem_end > kMaxUserAddress) return kENOEXEC;
  // mmap needs the file offset and the address at the same page offset
  // (a bss-only segment maps no file bytes, so any offset will do).
  if (p.p_filesz > 0 && (p.p_vaddr - p.p_offset) % kPageSize != 0) return kENOEXEC;

  ElfSegment s{.vaddr = p.p_vaddr,
               .offset = p.p_offset,
               .filesz = p.p_filesz,
               .memsz = p.p_memsz,
               .prot = ProtFromFlags(p.p_flags),
               .align = p.p_align};
  uint64_t start = PageDown(s.vaddr), end = PageUp(mem_end);
  if (info.loads.empty() || start < info.min_vaddr) info.min_vaddr = start;
  if (end > info.max_vaddr) info.max_vaddr = end;
  // Only power-of-two alignments above a page change where an ET_DYN
  // image may go (Linux's maximum_alignment() ignores the rest). Above
  // 1 GiB we ignore them too: aligning kPieBase down that far would put
  // the image near address 0.
  if (s.align > info.max_align && (s.align & (s.align - 1)) == 0 && s.align <= (1ull << 30)) {
    info.max_align = s.align;
  }
  info.loads.push_back(s);
  return Errno::Ok();
}

}  // namespace

bool HasElfMagic(std::span<const uint8_t> bytes) {
  return bytes.size() >= SELFMAG && std::memcmp(bytes.data(), ELFMAG, SELFMAG) == 0;
}

ErrnoOr<ElfHeader> ParseElfHeader(std::span<const uint8_t> bytes, int64_t file_size) {
  if (bytes.size() < kElfHeaderSize || !HasElfMagic(bytes)) return kENOEXEC;
  auto eh = Load<Elf64_Ehdr>(bytes, 0);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT) {
    return kENOEXEC;
  }
  if (eh.e_machine != EM_X86_64) return kENOEXEC;
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return kENOEXEC;
  if (eh.e_phentsize != kElfPhdrSize) return kENOEXEC;
  ElfHeader h{.type = eh.e_type, .entry = eh.e_entry, .phoff = eh.e_phoff, .phnum = eh.e_phnum};
  if (h.phnum < 1 || h.PhdrBytes() > kMaxPhdrBytes) return kENOEXEC;
  // A table past EOF is a truncated file (Linux: ENOEXEC or EIO).
  uint64_t table_end;
  if (!AddNoOverflow(h.phoff, h.PhdrBytes(), &table_end) || file_size < 0 ||
      table_end > static_cast<uint64_t>(file_size)) {
    return kENOEXEC;
  }
  return h;
}

ErrnoOr<ElfInfo> ParseProgramHeaders(const ElfHeader& h, std::span<const uint8_t> phdrs,
                                     int64_t file_size) {
  if (phdrs.size() < h.PhdrBytes()) return kENOEXEC;
  ElfInfo info;
  info.type = h.type;
  info.entry = h.entry;
  info.phoff = h.phoff;
  info.phnum = h.phnum;
  bool have_pt_phdr = false;
  for (size_t i = 0; i < h.phnum; i++) {
    auto p = Load<Elf64_Phdr>(phdrs, i * kElfPhdrSize);
    switch (p.p_type) {
      case PT_LOAD:
        PAL_TRY_ERRNO(AddLoad(p, file_size, info));
        break;
      case PT_INTERP: {
        // Linux uses the first PT_INTERP and ignores later ones.
        if (info.has_interp) break;
        uint64_t end;
        if (p.p_filesz < 2 || p.p_filesz > kMaxInterpPath || !AddNoOverflow(p.p_offset, p.p_filesz, &end) ||
            end > static_cast<uint64_t>(file_size)) {
          return kENOEXEC;
        }
        info.has_interp = true;
        info.interp_offset = p.p_offset;
        info.interp_size = p.p_filesz;
        break;
      }
      case PT_PHDR:
        have_pt_phdr = true;
        info.phdr_vaddr = p.p_vaddr;
        break;
      case PT_GNU_STACK:
        info.exec_stack = (p.p_flags & PF_X) != 0;
        break;
      default:
        break;  // PT_NOTE, PT_TLS, PT_GNU_RELRO ... are ld.so's or libc's business.
    }
  }
  if (info.loads.empty()) return kENOEXEC;
  if (!have_pt_phdr) {
    // As Linux 5.18+: the segment whose file bytes hold the table maps it.
    for (const ElfSegment& s : info.loads) {
      if (s.offset <= h.phoff && h.phoff - s.offset < s.filesz) {
        info.phdr_vaddr = h.phoff - s.offset + s.vaddr;
        break;
      }
    }
  }
  return info;
}

ErrnoOr<std::string> ParseInterpPath(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2 || bytes.back() != '\0') return kENOEXEC;
  // An embedded NUL ends the string early, as the kernel's C string does.
  std::string path(reinterpret_cast<const char*>(bytes.data()));
  if (path.empty()) return kENOEXEC;
  return path;
}

ErrnoOr<ElfInfo> ParseElfHeaders(std::span<const uint8_t> file) {
  auto size = static_cast<int64_t>(file.size());
  PAL_TRY(ElfHeader h, ParseElfHeader(file, size));
  PAL_TRY(ElfInfo info, ParseProgramHeaders(h, file.subspan(h.phoff, h.PhdrBytes()), size));
  if (info.has_interp) {
    PAL_TRY(info.interp, ParseInterpPath(file.subspan(info.interp_offset, info.interp_size)));
  }
  return info;
}

}  // namespace palisade::loader
