// mremap(2) and brk(2), and the VMA growth and move helpers they share
// with stack growth.
#include <iterator>
#include <vector>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::kPageSize;
using mm::PageAligned;
using mm::Vma;

Errno MemoryManager::Impl::GrowUp(Iter it, uint64_t extra, uint64_t spare_above) {
  Vma& v = it->second;
  const uint64_t old_end = v.end;
  if (!v.backing) {
    // No backing to outgrow: the file's pages continue (shm, SIGBUS past
    // end of file), or this already lies past a shared object's end.
    v.end += extra;
    if (v.shm) v.mapped.Resize(v.len() / kPageSize);
    return Errno::Ok();
  }
  mm::Backing& b = *v.backing;
  // In place: this VMA owns the top of a private backing with room left.
  if (!b.shared() && v.BackingOff(old_end) == b.used_hi && b.len() - b.used_hi >= extra) {
    b.used_hi += extra;
    v.end += extra;
    if (v.is_file()) {
      v.mapped.Resize(v.len() / kPageSize);  // new pages: unmapped, populated on fault
      return Errno::Ok();
    }
    if (Errno e = MapVma(v, old_end, v.end); !e.ok()) {
      v.end = old_end;
      b.used_hi -= extra;
      as->Unmap(old_end, extra);
      return Errno(ENOMEM);
    }
    return Errno::Ok();
  }
  // Otherwise a new VMA continues this one (same attributes, next file
  // offset) on a backing of its own; Continues() lets mremap and
  // /proc/pid/maps treat the pair as one mapping.
  if (!v.is_file() && v.shared) {
    // A shared anonymous object keeps its size (as the shmem file behind
    // it on Linux does): the grown part lies past its end, has no backing
    // and raises SIGBUS when touched.
    Vma n;
    n.start = old_end;
    n.end = old_end + extra;
    n.prot = v.prot;
    n.max_prot = v.max_prot;
    n.shared = true;
    n.dontfork = v.dontfork;
    n.name = v.name;
    vmas.emplace(n.start, std::move(n));
    return Errno::Ok();
  }
  if (!v.is_file()) {
    PAL_TRY(auto nit, NewAnonVma(old_end, extra, v.prot, v.shared, v.name, 0, spare_above));
    Vma& n = nit->second;
    n.max_prot = v.max_prot;
    n.dontfork = v.dontfork;
    n.wipeonfork = v.wipeonfork;
    return Errno::Ok();
  }
  PAL_TRY(auto backing, mm::Backing::Allocate(mf, extra + spare_above, v.shared, true));
  backing->used_hi = extra;
  Vma n;
  n.start = old_end;
  n.end = old_end + extra;
  n.prot = v.prot;
  n.max_prot = v.max_prot;
  n.shared = v.shared;
  n.dontfork = v.dontfork;
  n.wipeonfork = v.wipeonfork;
  n.written = v.written;
  n.file = v.file;
  n.file_off = v.FileOffset(old_end);
  n.name = v.name;
  n.backing = std::move(backing);
  n.mapped.Resize(extra / kPageSize);
  vmas.emplace(n.start, std::move(n));
  return Errno::Ok();
}

ErrnoOr<MemoryManager::Impl::Iter> MemoryManager::Impl::GrowDown(Iter it, uint64_t extra) {
  Vma& v = it->second;
  mm::Backing& b = *v.backing;
  if (!b.shared() && !v.is_file() && v.backing_off == b.used_lo && b.used_lo >= extra) {
    // In place, into the spare room below (see kStackReserve). Map first,
    // so a failure leaves nothing to undo.
    const uint64_t new_start = v.start - extra;
    if (!as->MapFile(new_start, extra, v.MfOffset(v.start) - extra, v.prot).ok()) {
      return Errno(ENOMEM);
    }
    // Re-key the node: the map is keyed by start.
    auto node = vmas.extract(it);
    Vma& g = node.mapped();
    b.used_lo -= extra;
    g.backing_off -= extra;
    g.start = new_start;
    node.key() = new_start;
    return vmas.insert(std::move(node)).position;
  }
  PAL_TRY(auto nit, NewAnonVma(v.start - extra, extra, v.prot, v.shared, v.name,
                               v.shared ? 0 : mm::kStackReserve, 0));
  nit->second.growsdown = true;
  nit->second.max_prot = v.max_prot;
  return nit;
}

void MemoryManager::Impl::MoveRange(uint64_t lo, uint64_t len, uint64_t dest) {
  SplitAt(lo);
  SplitAt(lo + len);
  std::vector<VmaMap::node_type> moving;
  for (auto it = vmas.lower_bound(lo); it != vmas.end() && it->first < lo + len;) {
    auto next = std::next(it);
    moving.push_back(vmas.extract(it));
    it = next;
  }
  as->Unmap(lo, len);
  for (auto& node : moving) {
    Vma& v = node.mapped();
    v.end = dest + (v.end - lo);
    v.start = dest + (v.start - lo);
    node.key() = v.start;
    Iter it = vmas.insert(std::move(node)).position;
    // Same backing at a new address: the data moves without a copy. A map
    // failure leaves anonymous pages unmapped; that is only a later fault.
    (void)MapVma(it->second, it->second.start, it->second.end);
  }
}

ErrnoOr<uint64_t> MemoryManager::Mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                                        int flags, uint64_t new_addr) {
  Impl& m = *impl_;
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return Errno(EINVAL);
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return Errno(EINVAL);
  // Not supported: MREMAP_DONTUNMAP would need two VMAs on one private
  // backing, and old_len == 0 (a second view of a shared mapping) the same.
  if (flags & MREMAP_DONTUNMAP) return Errno(EINVAL);
  if (!PageAligned(old_addr)) return Errno(EINVAL);
  old_len = mm::PageUp(old_len);
  new_len = mm::PageUp(new_len);
  if (old_len == 0 || new_len == 0) return Errno(EINVAL);
  if (old_addr + old_len < old_addr) return Errno(EFAULT);

  std::lock_guard<std::mutex> lock(m.mu);
  // The source must be mapped by VMAs that behave as one mapping (Linux
  // wants a single VMA; ours may be several after a growth).
  const uint64_t old_end = old_addr + old_len;
  Vma* v = m.Find(old_addr);
  if (!v) return Errno(EFAULT);
  for (Vma* cur = v; cur->end < old_end;) {
    Vma* next = m.Find(cur->end);
    if (!next) return Errno(EFAULT);
    if (!mm::Continues(*cur, *next)) return Errno(EFAULT);
    cur = next;
  }

  if (flags & MREMAP_FIXED) {
    if (!PageAligned(new_addr)) return Errno(EINVAL);
    if (new_addr < m.min_addr || new_addr > m.max_addr - new_len) return Errno(EINVAL);
    // Overlapping source and destination are refused, as Linux does.
    if (new_addr < old_end && old_addr < new_addr + new_len) return Errno(EINVAL);
    m.RemoveRange(new_addr, new_addr + new_len);
    if (new_len < old_len) {
      m.RemoveRange(old_addr + new_len, old_end);
      old_len = new_len;
    }
    m.MoveRange(old_addr, old_len, new_addr);
    if (new_len > old_len) {
      PAL_TRY_ERRNO(m.GrowUp(std::prev(m.vmas.upper_bound(new_addr + old_len - 1)),
                             new_len - old_len, 0));
    }
    return new_addr;
  }

  if (new_len <= old_len) {
    m.RemoveRange(old_addr + new_len, old_end);
    return old_addr;
  }
  const uint64_t extra = new_len - old_len;
  auto last = std::prev(m.vmas.upper_bound(old_end - 1));
  // Grow in place if the source ends its mapping and the space after is free.
  if (last->second.end == old_end && old_end <= m.max_addr && m.max_addr - old_end >= extra &&
      m.RangeFree(old_end, old_end + extra)) {
    PAL_TRY_ERRNO(m.GrowUp(last, extra, 0));
    return old_addr;
  }
  if (!(flags & MREMAP_MAYMOVE)) return Errno(ENOMEM);
  auto dest = m.Place(0, new_len, false);
  if (!dest) return Errno(ENOMEM);
  m.MoveRange(old_addr, old_len, *dest);
  PAL_TRY_ERRNO(m.GrowUp(std::prev(m.vmas.upper_bound(*dest + old_len - 1)), extra, 0));
  return *dest;
}

void MemoryManager::SetBrkBase(uint64_t addr) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->brk_base = impl_->brk = addr;
  impl_->layout.brk_start = addr;
}

uint64_t MemoryManager::Brk(uint64_t addr) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  // brk(0) and anything below the heap start just report the break.
  if (addr < m.brk_base) return m.brk;
  const uint64_t old_top = mm::PageUp(m.brk), new_top = mm::PageUp(addr);
  if (new_top == 0 || new_top > m.max_addr) return m.brk;
  if (new_top > old_top) {
    if (!m.RangeFree(old_top, new_top)) return m.brk;
    const uint64_t extra = new_top - old_top;
    Vma* heap = old_top > 0 ? m.Find(old_top - 1) : nullptr;
    if (heap && heap->end == old_top && heap->name == "[heap]" && !heap->is_file() &&
        !heap->shared) {
      if (!m.GrowUp(m.vmas.find(heap->start), extra, mm::kHeapReserve).ok()) return m.brk;
    } else if (!m.NewAnonVma(old_top, extra, PROT_READ | PROT_WRITE, false, "[heap]", 0,
                             mm::kHeapReserve)
                    .ok()) {
      return m.brk;
    }
  } else if (new_top < old_top) {
    m.RemoveRange(new_top, old_top);
  }
  m.brk = addr;
  return addr;
}

}  // namespace palisade
