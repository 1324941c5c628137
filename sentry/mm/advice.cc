// madvise(2), mincore(2) and mlock(2): hints about and queries on pages
// that do not change what is mapped where.
#include <linux/falloc.h>

#include <algorithm>
#include <cstring>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::kPageSize;
using mm::Vma;

namespace {

bool KnownAdvice(int advice) {
  switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK:
    case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK:
    case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT:
      return true;
    default:
      return false;
  }
}

}  // namespace

Errno MemoryManager::Madvise(uint64_t addr, uint64_t len, int advice) {
  Impl& m = *impl_;
  if (!mm::PageAligned(addr) || !KnownAdvice(advice)) return Errno(EINVAL);
  if (len == 0) return Errno::Ok();
  len = mm::PageUp(len);
  if (len == 0 || addr + len < addr) return Errno(EINVAL);
  const uint64_t end = addr + len;
  std::lock_guard<std::mutex> lock(m.mu);

  if (advice == MADV_DONTFORK || advice == MADV_DOFORK || advice == MADV_WIPEONFORK ||
      advice == MADV_KEEPONFORK) {
    // Linux refuses WIPEONFORK on anything but private anonymous memory.
    if (advice == MADV_WIPEONFORK) {
      bool ok = true;
      m.ForEachVma(addr, end, [&](Vma& v, uint64_t, uint64_t) { ok &= !v.shared && !v.is_file(); });
      if (!ok) return Errno(EINVAL);
    }
    // Per-VMA flags: the range becomes VMAs of its own.
    m.SplitAt(addr);
    m.SplitAt(end);
    bool covered = m.ForEachVma(addr, end, [&](Vma& v, uint64_t, uint64_t) {
      if (advice == MADV_DONTFORK || advice == MADV_DOFORK) v.dontfork = advice == MADV_DONTFORK;
      else v.wipeonfork = advice == MADV_WIPEONFORK;
    });
    m.MergeRange(addr, end);
    return covered ? Errno::Ok() : Errno(ENOMEM);
  }

  Errno result;
  bool covered = m.ForEachVma(addr, end, [&](Vma& v, uint64_t lo, uint64_t hi) {
    if (advice == MADV_REMOVE) {
      // Punching a hole in the shared object: every sharer sees zeros.
      // Only shared anonymous memory has an object of ours to punch.
      if (!v.shared) {
        result = Errno(EINVAL);
      } else if (v.shm) {
        // A hole in the file itself (as on shmem); mappings read zeros.
        bool changed;
        const int64_t fo = static_cast<int64_t>(v.FileOffset(lo));
        (void)v.shm->Allocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, fo,
                              static_cast<int64_t>(hi - lo), &changed);
        m.as->Unmap(lo, hi - lo);
        v.mapped.SetRange(v.Page(lo), v.Page(hi), false);
      } else if (!v.is_file() && v.backing) {
        m.mf.Decommit(v.MfOffset(lo), hi - lo);
      }
      return;
    }
    if (advice != MADV_DONTNEED && advice != MADV_FREE) return;  // hints: accepted, ignored
    if (v.shared || v.shm) {
      // Shared pages (and an immutable file's, see ImmutablePages) keep their data (it lives in the shared object); only
      // this mm's mapping goes, file pages are mapped again on next touch.
      if (v.is_file()) {
        v.mapped.SetRange(v.Page(lo), v.Page(hi), false);
        m.as->Unmap(lo, hi - lo);
      }
      return;
    }
    // Private: the pages are this VMA's alone (vma.h), drop them. Anonymous
    // memory reads back as zeros (the host refills the hole), file pages
    // are read again from the file on the next fault.
    if (v.is_file()) {
      m.as->Unmap(lo, hi - lo);
      v.mapped.SetRange(v.Page(lo), v.Page(hi), false);
      std::lock_guard<std::mutex> g(v.backing->mu);
      v.backing->populated.SetRange(v.BackingPage(lo), v.BackingPage(hi), false);
    }
    m.mf.Decommit(v.MfOffset(lo), hi - lo);
  });
  if (!result.ok()) return result;
  return covered ? Errno::Ok() : Errno(ENOMEM);
}

Errno MemoryManager::Mincore(uint64_t addr, uint64_t len, std::span<uint8_t> vec) {
  Impl& m = *impl_;
  if (!mm::PageAligned(addr)) return Errno(EINVAL);
  len = mm::PageUp(len);
  if (addr + len < addr) return Errno(ENOMEM);
  if (vec.size() < len / kPageSize) return Errno(EINVAL);
  std::memset(vec.data(), 0, len / kPageSize);
  std::lock_guard<std::mutex> lock(m.mu);
  bool covered = m.ForEachVma(addr, addr + len, [&](Vma& v, uint64_t lo, uint64_t hi) {
    // Resident = the page has memory in the MemoryFile (a mapped page the
    // app never touched is a hole, as on Linux it has no page yet).
    if (v.shm) {
      // The file's pages: resident if the file has them (page cache).
      (void)v.shm->ForEachPageRun(
          static_cast<int64_t>(v.FileOffset(lo)), static_cast<int64_t>(v.FileOffset(hi)), false,
          [&](int64_t fo, uint64_t mo, uint64_t n) {
            const uint64_t page_addr = v.start + (static_cast<uint64_t>(fo) - v.file_off);
            m.mf.ForEachPopulated(mo, n, [&](uint64_t off, uint64_t k) {
              std::memset(vec.data() + (page_addr - addr + (off - mo)) / kPageSize, 1, k / kPageSize);
            });
          });
      return;
    }
    if (!v.backing) return;  // past the end of a shared object: nothing
    const uint64_t base = v.MfOffset(lo);
    m.mf.ForEachPopulated(base, hi - lo, [&](uint64_t off, uint64_t n) {
      const uint64_t first = (lo - addr + (off - base)) / kPageSize;
      std::memset(vec.data() + first, 1, n / kPageSize);
    });
  });
  return covered ? Errno::Ok() : Errno(ENOMEM);
}

Errno MemoryManager::Mlock(uint64_t addr, uint64_t len, bool lock) {
  Impl& m = *impl_;
  // mlock(2) rounds the start down and the length up to whole pages.
  const uint64_t end = mm::PageUp(addr + len);
  addr = mm::PageDown(addr);
  if (len != 0 && (end == 0 || end < addr)) return Errno(ENOMEM);
  if (len == 0) return Errno::Ok();
  std::lock_guard<std::mutex> g(m.mu);
  // Nothing is ever swapped out, so locking only has to fault pages in.
  bool covered = m.ForEachVma(addr, end, [&](Vma& v, uint64_t lo, uint64_t hi) {
    if (!lock || v.prot == PROT_NONE) return;
    if (v.is_file()) {
      (void)m.FaultIn(v, lo, hi);
    } else if (v.backing) {
      m.mf.Commit(v.MfOffset(lo), hi - lo);  // as Linux, mlock faults anonymous pages in
    }
  });
  return covered ? Errno::Ok() : Errno(ENOMEM);
}

}  // namespace palisade
