// The VMA map of a MemoryManager: lookup, splitting and merging, free-gap
// search, mirroring VMAs into the platform AddressSpace, and removal.
#include <algorithm>
#include <iterator>
#include <vector>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::kPageSize;
using mm::Vma;

ErrnoOr<std::shared_ptr<mm::Backing>> mm::Backing::Allocate(MemoryFile& mf, uint64_t len,
                                                            bool shared, bool file_backed) {
  PAL_TRY(uint64_t off, mf.Allocate(len));
  std::shared_ptr<Backing> b(new Backing(mf, off, len, shared));
  b->used_lo = 0;
  b->used_hi = len;
  if (file_backed) b->populated.Resize(len / kPageSize);
  return b;
}

Vma* MemoryManager::Impl::Find(uint64_t addr) {
  auto it = vmas.upper_bound(addr);
  if (it == vmas.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &it->second : nullptr;
}

void MemoryManager::Impl::SplitAt(uint64_t addr) {
  auto it = vmas.upper_bound(addr);
  if (it == vmas.begin()) return;
  --it;
  Vma& lo = it->second;
  if (addr <= lo.start || addr >= lo.end) return;
  // Both halves keep the backing (and so share its refcount): pages stay
  // where they are, only the bookkeeping splits.
  Vma hi = lo;
  const uint64_t cut = lo.Page(addr);
  hi.start = addr;
  hi.backing_off = lo.BackingOff(addr);
  if (lo.is_file()) {
    hi.file_off = lo.FileOffset(addr);
    hi.mapped = lo.mapped.Slice(cut, lo.mapped.size());
    lo.mapped.Resize(cut);
  }
  lo.end = addr;
  vmas.emplace_hint(std::next(it), addr, std::move(hi));
}

bool MemoryManager::Impl::RangeFree(uint64_t lo, uint64_t hi) const {
  auto it = vmas.lower_bound(lo);
  if (it != vmas.end() && it->first < hi) return false;
  if (it != vmas.begin() && std::prev(it)->second.end > lo) return false;
  return true;
}

std::optional<uint64_t> MemoryManager::Impl::FindGapDown(uint64_t len, uint64_t lo,
                                                         uint64_t hi) const {
  if (hi <= lo || hi - lo < len) return std::nullopt;
  // Walk the gaps between VMAs from the top. `it` is the first VMA at or
  // above the current gap; its predecessor bounds the gap from below.
  uint64_t gap_hi = hi;
  auto it = vmas.lower_bound(hi);
  while (gap_hi > lo) {
    uint64_t gap_lo = lo;
    if (it != vmas.begin()) gap_lo = std::max(lo, std::prev(it)->second.end);
    if (gap_hi > gap_lo && gap_hi - gap_lo >= len) return gap_hi - len;
    if (it == vmas.begin()) break;
    --it;
    gap_hi = std::min(gap_hi, it->second.start);
  }
  return std::nullopt;
}

std::optional<uint64_t> MemoryManager::Impl::Place(uint64_t hint, uint64_t len, bool low32) const {
  const uint64_t hi = low32 ? std::min(max_addr, mm::k32BitLimit) : max_addr;
  hint = mm::PageUp(hint);
  if (hint >= min_addr && hint <= hi && hi - hint >= len && RangeFree(hint, hint + len)) return hint;
  // Top-down below mmap_base, as Linux's default layout; the space above it
  // (between mmap_base and the stack) is the fallback.
  if (!low32) {
    if (auto a = FindGapDown(len, min_addr, std::min(hi, mmap_base))) return a;
  }
  return FindGapDown(len, min_addr, hi);
}

void MemoryManager::Impl::MergeRange(uint64_t lo, uint64_t hi) {
  auto it = vmas.upper_bound(lo);
  if (it != vmas.begin()) --it;
  while (it != vmas.end() && it->first <= hi) {
    auto next = std::next(it);
    if (next == vmas.end()) break;
    if (!mm::Mergeable(it->second, next->second)) {
      it = next;
      continue;
    }
    Vma& a = it->second;
    if (a.is_file()) a.mapped.Append(next->second.mapped);
    a.end = next->second.end;
    vmas.erase(next);  // `it` may merge again with the new next
  }
}

Errno MemoryManager::Impl::MapVma(const Vma& v, uint64_t lo, uint64_t hi) {
  if (!v.is_file()) {
    if (!v.backing) return Errno::Ok();  // past a shared object's end: never mapped
    return as->MapFile(lo, hi - lo, v.MfOffset(lo), v.prot);
  }
  Errno err;
  v.mapped.ForEachRun(v.Page(lo), v.Page(hi), true, [&](uint64_t a, uint64_t b) {
    if (!err.ok()) return;
    uint64_t s = v.start + a * kPageSize;
    if (!v.shm) {
      err = as->MapFile(s, (b - a) * kPageSize, v.MfOffset(s), v.prot);
      return;
    }
    // The file's pages where they are now (a run may span chunks). Pages
    // past end of file stay unmapped: their next touch is a SIGBUS.
    ErrnoOr<int64_t> r = v.shm->ForEachPageRun(
        static_cast<int64_t>(v.FileOffset(s)), static_cast<int64_t>(v.FileOffset(s + (b - a) * kPageSize)),
        true, [&](int64_t fo, uint64_t mo, uint64_t len) {
          if (err.ok()) err = as->MapFile(v.start + (static_cast<uint64_t>(fo) - v.file_off), len, mo, v.prot);
        });
    if (!r.ok()) err = r.error();
  });
  return err;
}

void MemoryManager::Impl::RemoveRange(uint64_t lo, uint64_t hi) {
  SplitAt(lo);
  SplitAt(hi);
  std::vector<Vma> gone;
  for (auto it = vmas.lower_bound(lo); it != vmas.end() && it->first < hi;) {
    WriteBack(it->second, it->second.start, it->second.end);
    gone.push_back(std::move(it->second));
    it = vmas.erase(it);
  }
  if (gone.empty()) return;
  // Unmap before releasing pages so no thread of the app sees them zeroed.
  as->Unmap(lo, hi - lo);
  for (Vma& v : gone) {
    if (!v.backing) continue;  // shm: the file's pages stay the file's
    mm::Backing& b = *v.backing;
    // Shared pages may still be mapped by a forked mm: they go only with the
    // backing. Private ones are this VMA's alone (see vma.h). If this VMA
    // holds the last reference, freeing the backing releases it all anyway.
    if (b.shared() || v.backing.use_count() == 1) continue;
    mf.Decommit(v.MfOffset(v.start), v.len());
    if (v.is_file()) {
      std::lock_guard<std::mutex> g(b.mu);
      b.populated.SetRange(v.BackingPage(v.start), v.BackingPage(v.end), false);
    }
    // The released pages at an edge of the used range become spare room
    // again, so brk shrink-then-grow cycles reuse the same backing.
    if (v.BackingOff(v.end) == b.used_hi) {
      b.used_hi = v.backing_off;
    } else if (v.backing_off == b.used_lo) {
      b.used_lo = v.BackingOff(v.end);
    }
  }
}

ErrnoOr<MemoryManager::Impl::Iter> MemoryManager::Impl::NewAnonVma(
    uint64_t start, uint64_t len, int prot, bool shared, const std::string& name,
    uint64_t spare_below, uint64_t spare_above) {
  // Spare room only makes sense for private backings (see Backing::used_lo).
  if (shared) spare_below = spare_above = 0;
  PAL_TRY(auto backing, mm::Backing::Allocate(mf, spare_below + len + spare_above, shared, false));
  backing->used_lo = spare_below;
  backing->used_hi = spare_below + len;
  Vma v;
  v.start = start;
  v.end = start + len;
  v.prot = prot;
  v.shared = shared;
  v.name = name;
  v.backing = std::move(backing);
  v.backing_off = spare_below;
  auto it = vmas.emplace(start, std::move(v)).first;
  // Anonymous memory is mapped whole at once: the host zero-fills it on
  // first touch, so there is nothing to populate and no fault to serve.
  if (Errno e = MapVma(it->second, start, start + len); !e.ok()) {
    vmas.erase(it);
    as->Unmap(start, len);
    return Errno(ENOMEM);
  }
  return it;
}

}  // namespace palisade
