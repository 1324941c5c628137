// fork(2) of a MemoryManager: private memory is copied now (populated
// pages only; holes stay holes), shared memory is shared. There is no
// copy-on-write yet: a fork costs a memcpy of the parent's resident
// private memory (see memory_manager.h).
#include <cstring>
#include <unordered_map>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::kPageSize;
using mm::Vma;

namespace {

// Copies the populated pages of parent VMA v into the same offsets of the
// child's backing nb (file VMAs: the pages holding file data, with their
// populated bits; anonymous: whatever the host has allocated).
void CopyPages(MemoryFile& mf, const Vma& v, mm::Backing& nb) {
  mm::Backing& ob = *v.backing;
  const uint64_t from = v.BackingOff(v.start), len = v.len();
  auto copy = [&](uint64_t off, uint64_t n) {
    // off is a MemoryFile offset inside ob; the same backing offset in nb.
    const uint64_t boff = off - ob.offset();
    std::memcpy(nb.Pointer(boff), ob.Pointer(boff), n);
  };
  if (!v.is_file()) {
    mf.ForEachPopulated(ob.offset() + from, len, copy);
    return;
  }
  // Private file backings are this mm's alone, but take the lock anyway:
  // it is what guards the bits.
  std::lock_guard<std::mutex> g(ob.mu);
  ob.populated.ForEachRun(from / kPageSize, (from + len) / kPageSize, true,
                          [&](uint64_t a, uint64_t b) {
                            mf.ForEachPopulated(ob.offset() + a * kPageSize, (b - a) * kPageSize, copy);
                            nb.populated.SetRange(a, b, true);
                          });
}

}  // namespace

ErrnoOr<std::shared_ptr<MemoryManager>> MemoryManager::Fork() {
  Impl& m = *impl_;
  auto child = std::make_shared<MemoryManager>(m.mf, m.platform);
  if (!child->as_) return Errno(ENOMEM);
  Impl& c = *child->impl_;
  // Lock order: parent, then child (which nobody else can see yet).
  std::lock_guard<std::mutex> lock(m.mu);
  std::lock_guard<std::mutex> child_lock(c.mu);
  c.mmap_base = m.mmap_base;
  c.brk_base = m.brk_base;
  c.brk = m.brk;
  c.layout = m.layout;
  c.auxv = m.auxv;
  c.exe_path = m.exe_path;

  // One child backing per parent backing, so VMAs split from one VMA stay
  // on one backing (with the same offsets and spare room) in the child.
  std::unordered_map<const mm::Backing*, std::shared_ptr<mm::Backing>> copies;
  for (const auto& [start, v] : m.vmas) {
    if (v.dontfork) continue;
    Vma cv = v;  // attributes, mapped bits, and (for shared VMAs) the backing
    if (v.wipeonfork) {
      // Fresh zeros for the child: a new backing of the VMA's size.
      PAL_TRY(cv.backing, mm::Backing::Allocate(m.mf, v.len(), false, false));
      cv.backing_off = 0;
    } else if (!v.shared && !v.shm) {  // private shm: an immutable file's pages, shared
      std::shared_ptr<mm::Backing>& nb = copies[v.backing.get()];
      if (!nb) {
        PAL_TRY(nb, mm::Backing::Allocate(m.mf, v.backing->len(), false, v.is_file()));
        nb->used_lo = v.backing->used_lo;
        nb->used_hi = v.backing->used_hi;
      }
      CopyPages(m.mf, v, *nb);
      cv.backing = nb;
    }
    if (cv.shm) cv.shm->AddMapper(c.mapper);
    auto it = c.vmas.emplace(start, std::move(cv)).first;
    if (Errno e = c.MapVma(it->second, it->second.start, it->second.end); !e.ok()) {
      return Errno(ENOMEM);
    }
  }
  return child;
}

}  // namespace palisade
