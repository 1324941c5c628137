// Special mappings: sentry-owned shared memory (the vDSO image and its
// time data page) mapped into an mm as ordinary shared VMAs.
#include "sentry/mm/mm_impl.h"

namespace palisade {

ErrnoOr<std::shared_ptr<mm::Backing>> MemoryManager::AllocateSpecial(MemoryFile& mf, uint64_t len) {
  if (len == 0 || !mm::PageAligned(len)) return Errno(EINVAL);
  return mm::Backing::Allocate(mf, len, /*shared=*/true, /*file_backed=*/false);
}

ErrnoOr<uint64_t> MemoryManager::MapSpecial(std::shared_ptr<mm::Backing> backing,
                                            const std::vector<SpecialPart>& parts) {
  Impl& m = *impl_;
  uint64_t total = 0;
  for (const SpecialPart& p : parts) {
    if (p.len == 0 || !mm::PageAligned(p.len)) return Errno(EINVAL);
    total += p.len;
  }
  if (!backing || !backing->shared() || total == 0 || total > backing->len()) return Errno(EINVAL);
  std::lock_guard<std::mutex> lock(m.mu);
  std::optional<uint64_t> at = m.Place(0, total, false);
  if (!at) return Errno(ENOMEM);
  uint64_t addr = *at, off = 0;
  for (const SpecialPart& p : parts) {
    mm::Vma v;
    v.start = addr + off;
    v.end = v.start + p.len;
    v.prot = p.prot;
    v.max_prot = p.max_prot;
    v.shared = true;
    v.name = p.name;
    v.backing = backing;
    v.backing_off = off;
    auto it = m.vmas.emplace(v.start, std::move(v)).first;
    if (Errno e = m.MapVma(it->second, it->second.start, it->second.end); !e.ok()) {
      m.RemoveRange(addr, addr + total);
      return Errno(ENOMEM);
    }
    off += p.len;
  }
  return addr;
}

}  // namespace palisade
