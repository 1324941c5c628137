#include "sentry/loader/elf_plan.h"

#include <sys/mman.h>

#include <algorithm>

namespace palisade::loader {
namespace {

// Appends elf_load()'s steps for one segment at biased address `va`.
void PlanSegment(const ElfSegment& s, uint64_t va, std::vector<MapStep>& steps) {
  uint64_t page_off = va % kPageSize;
  uint64_t zero_start, zero_end;
  if (s.filesz > 0) {
    steps.push_back({.kind = MapStep::Kind::kFile,
                     .addr = va - page_off,
                     .len = PageUp(s.filesz + page_off),
                     .prot = s.prot,
                     .offset = s.offset - page_off});
    zero_start = va + s.filesz;
    zero_end = va + s.memsz;
    // The file page holding the end of the data also holds whatever
    // follows it in the file; that tail must read as zero bss (padzero()
    // clears to the end of the page even past memsz).
    if (s.memsz > s.filesz && zero_start % kPageSize != 0) {
      steps.push_back({.kind = MapStep::Kind::kZero,
                       .addr = zero_start,
                       .len = PageUp(zero_start) - zero_start,
                       .prot = s.prot});
    }
  } else {
    zero_start = va - page_off;
    zero_end = zero_start + page_off + s.memsz;
  }
  if (s.memsz > s.filesz) {
    // Whole pages past the file data are anonymous, read-write like brk
    // memory (vm_brk_flags()), executable only if the segment is.
    uint64_t start = PageUp(zero_start), end = PageUp(zero_end);
    if (end > start) {
      steps.push_back({.kind = MapStep::Kind::kAnon,
                       .addr = start,
                       .len = end - start,
                       .prot = PROT_READ | PROT_WRITE | (s.prot & PROT_EXEC)});
    }
  }
}

}  // namespace

ErrnoOr<ElfPlan> PlanElfMapping(const ElfInfo& info, uint64_t bias) {
  // Addresses are vaddr + bias modulo 2^64 (a bias below min_vaddr is a
  // "negative" bias); the span decides whether the result is in range.
  uint64_t lo = info.min_vaddr + bias;
  uint64_t span = info.max_vaddr - info.min_vaddr;
  if (info.max_vaddr < info.min_vaddr || span > kMaxUserAddress || lo > kMaxUserAddress - span ||
      lo % kPageSize != 0) {
    return Errno(EINVAL);
  }

  ElfPlan plan;
  plan.bias = bias;
  plan.entry = info.entry + bias;
  if (info.phdr_vaddr != 0) plan.phdr = info.phdr_vaddr + bias;

  bool has_code = false;
  uint64_t start_code = ~uint64_t{0}, end_code = 0, start_data = 0, end_data = 0, brk = 0;
  for (const ElfSegment& s : info.loads) {
    PlanSegment(s, s.vaddr + bias, plan.steps);
    // The same bookkeeping as load_elf_binary(), unbiased.
    if (s.prot & PROT_EXEC) {
      has_code = true;
      start_code = std::min(start_code, s.vaddr);
      end_code = std::max(end_code, s.vaddr + s.filesz);
    }
    start_data = std::max(start_data, s.vaddr);
    end_data = std::max(end_data, s.vaddr + s.filesz);
    brk = std::max(brk, s.vaddr + s.memsz);
  }
  if (has_code) {
    plan.start_code = start_code + bias;
    plan.end_code = end_code + bias;
  }
  plan.start_data = start_data + bias;
  plan.end_data = end_data + bias;
  plan.brk = PageUp(brk + bias);
  return plan;
}

}  // namespace palisade::loader
