// Internal to sentry/mm: MemoryManager::Impl, the state behind one
// MemoryManager, and the helpers its .cc files share. Split by concern:
//   vma_set.cc     the VMA map: find, split, merge, gaps, map into the AS, remove
//   mmap.cc        mmap / munmap / mprotect
//   remap.cc       mremap, brk and growing VMAs in place
//   advice.cc      madvise / mincore / mlock
//   file_pages.cc  file-backed pages: populate from the file, map, write back, msync
//   fault.cc       HandleFault and stack growth
//   io.cc          CopyIn / CopyOut and friends
//   fork.cc        Fork
//   proc_maps.cc   /proc/pid/maps text and the size counters
//   mm.cc          construction, destruction, layout accessors
//
// Locking: `mu` guards all fields below it. Methods here REQUIRE mu held
// unless they say otherwise.
// Lock order: MemoryManager::Impl::mu -> (a child's mu, in Fork) ->
//   Backing::mu -> MappableFile internals -> MemoryFile::mu.
// MappableFile::ReadAt/WriteAt are called with mu held (populating file
// chunks, write-back): a slow file stalls faults of this mm's other
// threads, but page state can never be observed half-populated.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "sentry/mm/memory_manager.h"
#include "sentry/mm/vma.h"

namespace palisade {

namespace mm {
// Top-down mmap placement starts below this unless set_mmap_base moves it.
inline constexpr uint64_t kDefaultMmapBase = 0x7b0000000000ull;
// MAP_32BIT mappings go below 2 GiB, as on Linux x86-64.
inline constexpr uint64_t k32BitLimit = 1ull << 31;
// Spare backing kept below a MAP_GROWSDOWN VMA (the default RLIMIT_STACK),
// so the stack grows inside one VMA and one backing.
inline constexpr uint64_t kStackReserve = 8ull << 20;
// How far below a growsdown VMA a fault may be and still grow it (Linux
// uses RLIMIT_STACK; this is a generous fixed bound).
inline constexpr uint64_t kStackMaxGap = 128ull << 20;
// Spare backing kept above the heap, so brk grows without new VMAs.
inline constexpr uint64_t kHeapReserve = 32ull << 20;

// How FileMemory reaches a MemoryManager when a file shrinks (see
// file_memory.h). Outlives the mm if a FileMemory holds it at the time:
// ~MemoryManager clears impl first.
struct MmMapper : FileMapper {
  void Invalidate(const FileMemory& fm, int64_t lo, int64_t hi) override;
  std::mutex mu;  // before MemoryManager::Impl::mu
  MemoryManager::Impl* impl = nullptr;  // guarded by mu
};

}  // namespace mm

struct MemoryManager::Impl {
  Impl(MemoryFile& mf, platform::Platform& platform, platform::AddressSpace* as)
      : mf(mf), platform(platform), as(as), min_addr(platform.MinUserAddress()),
        max_addr(platform.MaxUserAddress()), mapper(std::make_shared<mm::MmMapper>()) {
    mapper->impl = this;
  }

  using VmaMap = std::map<uint64_t, mm::Vma>;  // keyed by start
  using Iter = VmaMap::iterator;

  MemoryFile& mf;
  platform::Platform& platform;
  platform::AddressSpace* as;  // owned by MemoryManager::as_
  const uint64_t min_addr, max_addr;
  const std::shared_ptr<mm::MmMapper> mapper;  // registered with FileMemory we map

  std::mutex mu;
  VmaMap vmas;
  uint64_t mmap_base = mm::kDefaultMmapBase;
  uint64_t brk_base = 0, brk = 0;
  Layout layout;
  std::string auxv, exe_path;

  // Calls fn(v, lo', hi') for each VMA v meeting [lo, hi), with [lo', hi')
  // their intersection, in address order. fn must not add or remove VMAs.
  // Returns false if part of [lo, hi) is not mapped.
  template <typename Fn>
  bool ForEachVma(uint64_t lo, uint64_t hi, Fn fn) {
    uint64_t cur = lo;
    bool covered = true;
    auto it = vmas.upper_bound(lo);
    if (it != vmas.begin() && std::prev(it)->second.end > lo) --it;
    for (; it != vmas.end() && it->first < hi; ++it) {
      mm::Vma& v = it->second;
      if (v.start > cur) covered = false;
      fn(v, std::max(lo, v.start), std::min(hi, v.end));
      cur = v.end;
    }
    return covered && cur >= hi;
  }

  // --- vma_set.cc
  mm::Vma* Find(uint64_t addr);               // the VMA containing addr, or null
  void SplitAt(uint64_t addr);                // splits the VMA strictly containing addr
  bool RangeFree(uint64_t lo, uint64_t hi) const;
  // Highest page-aligned a with [a, a+len) inside [lo, hi) and free.
  std::optional<uint64_t> FindGapDown(uint64_t len, uint64_t lo, uint64_t hi) const;
  // Where a non-fixed mapping of len bytes goes (hint first if free).
  std::optional<uint64_t> Place(uint64_t hint, uint64_t len, bool low32) const;
  // Merges adjacent VMAs that are one mapping split in two (same backing,
  // contiguous), for VMAs touching [lo, hi].
  void MergeRange(uint64_t lo, uint64_t hi);
  // Mirrors [lo, hi) of v (its mapped pages, for file VMAs) into the AS.
  Errno MapVma(const mm::Vma& v, uint64_t lo, uint64_t hi);
  // munmap internals: writes back, removes from the AS, releases pages.
  void RemoveRange(uint64_t lo, uint64_t hi);
  // A new anonymous VMA [start, start+len) with a fresh backing that has
  // spare room below/above, inserted and mapped. REQUIRES: range free.
  ErrnoOr<Iter> NewAnonVma(uint64_t start, uint64_t len, int prot, bool shared,
                           const std::string& name, uint64_t spare_below, uint64_t spare_above);

  // --- remap.cc
  // Extends the VMA at it by extra bytes at its end, in its own backing if
  // there is spare room, else with a new VMA continuing it (spare_above
  // more room reserved). REQUIRES: [end, end+extra) free.
  Errno GrowUp(Iter it, uint64_t extra, uint64_t spare_above);
  // Same, downwards (stack growth). Returns the VMA now starting lower.
  ErrnoOr<Iter> GrowDown(Iter it, uint64_t extra);
  // Moves [lo, lo+len) (whole VMAs after splitting) to dest, keeping the
  // backings: no byte is copied. REQUIRES: destination free.
  void MoveRange(uint64_t lo, uint64_t len, uint64_t dest);

  // --- file_pages.cc
  // First address of v wholly beyond end of file (clipped to [start, end]).
  uint64_t EofEnd(const mm::Vma& v);
  // Reads file bytes into v's unpopulated backing pages in [lo, hi).
  Errno Populate(mm::Vma& v, uint64_t lo, uint64_t hi);
  // Maps v's unmapped pages in [lo, hi) into the AS. REQUIRES: populated.
  Errno MapPages(mm::Vma& v, uint64_t lo, uint64_t hi);
  // Populates and maps the chunks covering [lo, hi) of file VMA v, clipped
  // to end of file. EFAULT if lo is beyond end of file; the file's errno
  // if a read fails.
  Errno FaultIn(mm::Vma& v, uint64_t lo, uint64_t hi);
  // FaultIn for a VMA with shm: maps the file's pages of the chunks
  // covering [lo, hi), giving holes memory. Same errors.
  Errno FaultInShared(mm::Vma& v, uint64_t lo, uint64_t hi);
  // Turns a private VMA mapping an immutable file's pages (shm) into an
  // ordinary private file VMA with a backing of its own, filled from the
  // file on demand (same bytes: the file cannot change), before anything
  // may write it. ENOMEM: no room for the backing.
  Errno PrivatizeFileVma(mm::Vma& v);
  // Unmaps this mm's mappings of fm's file range [lo, hi) (shm VMAs).
  // REQUIRES: mu NOT held.
  void InvalidateFile(const FileMemory& fm, int64_t lo, int64_t hi);
  // Writes v's populated pages in [lo, hi) back to the file if v is a
  // MAP_SHARED file mapping that was ever writable. Best effort.
  void WriteBack(mm::Vma& v, uint64_t lo, uint64_t hi);

  // --- fault.cc
  // Grows a MAP_GROWSDOWN VMA above addr down to cover it, if allowed.
  bool GrowStack(uint64_t addr);

  // --- io.cc
  // Copies between app [addr, addr+len) and the sentry through the
  // MemoryFile. need_prot: PROT_READ or PROT_WRITE checked per VMA, or 0.
  // write: the bytes will be changed (shared file pages need write-back).
  // fn(ptr, n) gets consecutive pieces; returning false stops the walk.
  // EFAULT at the first unmapped, forbidden or beyond-end-of-file byte.
  template <typename Fn>
  Errno Walk(uint64_t addr, uint64_t len, int need_prot, bool write, Fn fn);
};

}  // namespace palisade
