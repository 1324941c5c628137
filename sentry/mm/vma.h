// Internal to sentry/mm: the pieces a MemoryManager is made of.
//
// Backing: one MemoryFile range, refcounted by the VMAs that use it and
// freed to the MemoryFile when the last one drops it. A VMA uses the
// pages [backing_off, backing_off + len) of its backing; splitting a VMA
// (partial munmap/mprotect) shares the backing between the halves.
//
// Private backings belong to one MemoryManager (fork copies them), and
// each of their pages is used by at most one VMA, so a page can be
// decommitted as soon as the VMA using it goes. Shared backings
// (MAP_SHARED) are shared across forks and are only released when the
// last VMA anywhere drops them.
//
// Vma: one address range with uniform attributes, like vm_area_struct.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/errno.h"
#include "sentry/mm/file_memory.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/page_bitmap.h"

namespace palisade::mm {

inline constexpr uint64_t kPageSize = 4096;
// Private file mappings are read in chunks of this size (aligned in the
// address space, clipped to the VMA and to end of file): fewer faults and
// ReadAt calls than per page, little over-read.
inline constexpr uint64_t kChunkSize = 64 << 10;

inline uint64_t PageDown(uint64_t v) { return v & ~(kPageSize - 1); }
// Rounds up; returns 0 on overflow (callers treat 0 as "too big").
inline uint64_t PageUp(uint64_t v) { return v > ~0ull - (kPageSize - 1) ? 0 : PageDown(v + kPageSize - 1); }
inline bool PageAligned(uint64_t v) { return (v & (kPageSize - 1)) == 0; }
inline uint64_t ChunkDown(uint64_t v) { return v & ~(kChunkSize - 1); }

class Backing {
 public:
  // A zero-filled range of len bytes. file_backed: keeps a populated bitmap.
  static ErrnoOr<std::shared_ptr<Backing>> Allocate(MemoryFile& mf, uint64_t len, bool shared,
                                                    bool file_backed);
  ~Backing() { mf_.Free(offset_, len_); }
  Backing(const Backing&) = delete;
  Backing& operator=(const Backing&) = delete;

  MemoryFile& mf() const { return mf_; }
  uint64_t offset() const { return offset_; }  // in the MemoryFile
  uint64_t len() const { return len_; }
  bool shared() const { return shared_; }
  uint8_t* Pointer(uint64_t off) const { return mf_.Pointer(offset_ + off); }

  // Private backings only, guarded by the owning MemoryManager's mutex:
  // the backing offsets [used_lo, used_hi) that VMAs may use. Pages outside
  // are spare room a VMA at the edge can grow into without a new backing
  // (brk, stack growth, mremap), which keeps the VMA count low.
  uint64_t used_lo = 0, used_hi = 0;

  // File-backed backings: pages holding file data (indexed by backing
  // page). Lives here, not in the VMA, because a MAP_SHARED file backing
  // is shared by forked mms, and a page populated (and maybe written) by
  // one must not be re-read from the file by another. An unpopulated page
  // is always zero. Lock order: MemoryManager mutex -> mu -> MappableFile.
  std::mutex mu;
  PageBitmap populated;

 private:
  Backing(MemoryFile& mf, uint64_t offset, uint64_t len, bool shared)
      : mf_(mf), offset_(offset), len_(len), shared_(shared) {}
  MemoryFile& mf_;
  const uint64_t offset_, len_;
  const bool shared_;
};

struct Vma {
  uint64_t start = 0, end = 0;
  int prot = PROT_NONE;
  // Protections mprotect may grant: PROT_WRITE is absent for a MAP_SHARED
  // mapping of a file opened read-only.
  int max_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
  bool shared = false;
  bool growsdown = false;
  bool dontfork = false;    // MADV_DONTFORK: the child does not get it
  bool wipeonfork = false;  // MADV_WIPEONFORK: the child gets zeros
  // MAP_SHARED file mappings: was writable at some point, so populated
  // pages may differ from the file and are written back on msync/munmap.
  bool written = false;
  std::shared_ptr<MappableFile> file;  // null: anonymous
  uint64_t file_off = 0;               // file offset of start
  std::string name;                    // "[heap]", "[stack]", a path, or ""
  // Null for a MAP_SHARED mapping of a file with FileMemory (tmpfs), or a
  // private one without PROT_WRITE of an immutable file
  // (MappableFile::ImmutablePages): it maps the file's own pages (shm),
  // and backing_off is then the file offset of start, so splitting and
  // merging need no special case.
  std::shared_ptr<Backing> backing;
  uint64_t backing_off = 0;  // backing offset of start
  FileMemory* shm = nullptr;  // kept alive by `file`
  // File VMAs: pages mapped in this mm's AddressSpace. Anonymous VMAs are
  // always mapped whole, so they leave this empty.
  PageBitmap mapped;

  uint64_t len() const { return end - start; }
  bool is_file() const { return file != nullptr; }
  // MemoryFile offset of addr. REQUIRES: start <= addr <= end, backing.
  uint64_t MfOffset(uint64_t addr) const { return backing->offset() + backing_off + (addr - start); }
  // Backing offset and page index of addr.
  uint64_t BackingOff(uint64_t addr) const { return backing_off + (addr - start); }
  uint64_t BackingPage(uint64_t addr) const { return BackingOff(addr) / kPageSize; }
  uint64_t Page(uint64_t addr) const { return (addr - start) / kPageSize; }
  uint64_t FileOffset(uint64_t addr) const { return file_off + (addr - start); }
};

// x86 has no write-only or execute-only pages: any access right implies
// read, as the hardware (and so Linux's copy_from_user) sees it.
inline bool CanRead(int prot) { return prot & (PROT_READ | PROT_WRITE | PROT_EXEC); }
inline bool CanWrite(int prot) { return prot & PROT_WRITE; }

// b continues a: together they behave as one mapping (mremap may span
// them, /proc/pid/maps prints one line). Their backings may differ.
inline bool Continues(const Vma& a, const Vma& b) {
  return a.end == b.start && a.prot == b.prot && a.max_prot == b.max_prot &&
         a.shared == b.shared && a.file == b.file &&
         (!a.is_file() || b.file_off == a.FileOffset(a.end)) && a.name == b.name &&
         a.dontfork == b.dontfork && a.wipeonfork == b.wipeonfork;
}

// b is the rest of a's backing (the two were one VMA before a split), so
// they can become one VMA again.
inline bool Mergeable(const Vma& a, const Vma& b) {
  return Continues(a, b) && a.backing == b.backing && b.backing_off == a.BackingOff(a.end) &&
         a.growsdown == b.growsdown && a.written == b.written;
}

}  // namespace palisade::mm
