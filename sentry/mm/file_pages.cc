// File-backed VMAs: reading file chunks into their backing pages on
// demand, mapping them, and writing MAP_SHARED pages back (msync).
//
// MAP_SHARED mappings of files whose data lives in the MemoryFile (tmpfs,
// and so the overlay's upper layer: MappableFile::Memory) map the file's
// own pages: coherent with read(2)/write(2) and between processes, and
// truncation unmaps what lies past the new end (InvalidateFile).
//
// Other MAP_SHARED file mappings (gofer files, whose data is on a host fd)
// are partial: their pages are a copy of the file, coherent between the
// mms that share the mapping (forks) but not with read(2)/write(2) on the
// file. Pages of a mapping that was ever writable are written back whole
// on msync, munmap and exit; there is no dirty tracking, so concurrent
// write(2)s to the same pages can be undone.
#include <algorithm>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "sentry/mm/mm_impl.h"
#include "spdlog/spdlog.h"

namespace palisade {

using mm::kPageSize;
using mm::Vma;

namespace {

using Runs = std::vector<std::pair<uint64_t, uint64_t>>;

// Runs of bits equal to v in [from, to), collected first so the caller can
// change the bitmap while going through them.
Runs CollectRuns(const PageBitmap& bits, uint64_t from, uint64_t to, bool v) {
  Runs runs;
  bits.ForEachRun(from, to, v, [&](uint64_t a, uint64_t b) { runs.emplace_back(a, b); });
  return runs;
}

}  // namespace

uint64_t MemoryManager::Impl::EofEnd(const Vma& v) {
  const int64_t size = v.file->Size();
  if (size <= 0) return v.start;
  const uint64_t eof_page = mm::PageUp(static_cast<uint64_t>(size));
  if (eof_page == 0) return v.end;  // rounding overflowed: the file ends past any mapping
  if (eof_page <= v.file_off) return v.start;
  return eof_page - v.file_off >= v.len() ? v.end : v.start + (eof_page - v.file_off);
}

Errno MemoryManager::Impl::Populate(Vma& v, uint64_t lo, uint64_t hi) {
  mm::Backing& b = *v.backing;
  std::lock_guard<std::mutex> g(b.mu);
  const uint64_t first = v.BackingPage(lo);
  for (auto [a, e] : CollectRuns(b.populated, first, v.BackingPage(hi), false)) {
    const uint64_t addr = lo + (a - first) * kPageSize, len = (e - a) * kPageSize;
    uint8_t* dst = b.Pointer(a * kPageSize);
    const int64_t off = static_cast<int64_t>(v.FileOffset(addr));
    uint64_t done = 0;
    while (done < len) {
      ErrnoOr<int64_t> n = v.file->ReadAt(std::span<uint8_t>(dst + done, len - done),
                                          off + static_cast<int64_t>(done));
      if (!n.ok()) return n.error();  // earlier runs stay populated
      if (*n <= 0) break;             // end of file
      done += static_cast<uint64_t>(*n);
    }
    // The rest of the page holding end of file must read as zero. Unpopulated
    // pages are zero already; clearing makes that independent of ReadAt
    // leaving the bytes it did not return alone.
    if (done % kPageSize != 0) std::memset(dst + done, 0, kPageSize - done % kPageSize);
    b.populated.SetRange(a, e, true);
  }
  return Errno::Ok();
}

Errno MemoryManager::Impl::MapPages(Vma& v, uint64_t lo, uint64_t hi) {
  for (auto [a, e] : CollectRuns(v.mapped, v.Page(lo), v.Page(hi), false)) {
    const uint64_t addr = v.start + a * kPageSize;
    PAL_TRY_ERRNO(as->MapFile(addr, (e - a) * kPageSize, v.MfOffset(addr), v.prot));
    v.mapped.SetRange(a, e, true);
  }
  return Errno::Ok();
}

Errno MemoryManager::Impl::FaultIn(Vma& v, uint64_t lo, uint64_t hi) {
  if (v.shm) return FaultInShared(v, lo, hi);
  const uint64_t eof = EofEnd(v);
  if (lo >= eof) return Errno(EFAULT);
  const uint64_t clo = std::max(v.start, mm::ChunkDown(lo));
  const uint64_t chi = std::min(eof, mm::ChunkDown(hi - 1) + mm::kChunkSize);
  PAL_TRY_ERRNO(Populate(v, clo, chi));
  if (Errno e = MapPages(v, clo, chi); !e.ok()) return Errno(ENOMEM);
  return Errno::Ok();
}

namespace {

// Maps into as the pages of shm VMA v that file range [flo, fhi) has in
// the MemoryFile (giving holes memory when allocate), and marks them
// mapped. Returns the end of the file range covered, or the error; a
// mapping failure is ENOMEM.
ErrnoOr<int64_t> MapFileRuns(platform::AddressSpace& as, Vma& v, uint64_t flo, uint64_t fhi, bool allocate) {
  Errno err;
  ErrnoOr<int64_t> covered = v.shm->ForEachPageRun(
      static_cast<int64_t>(flo), static_cast<int64_t>(fhi), allocate, [&](int64_t fo, uint64_t mo, uint64_t len) {
        if (!err.ok()) return;
        const uint64_t addr = v.start + (static_cast<uint64_t>(fo) - v.file_off);
        err = as.MapFile(addr, len, mo, v.prot);
        if (err.ok()) v.mapped.SetRange(v.Page(addr), v.Page(addr + len), true);
      });
  if (!covered.ok()) return covered.error();
  if (!err.ok()) return Errno(ENOMEM);
  return covered;
}

}  // namespace

Errno MemoryManager::Impl::FaultInShared(Vma& v, uint64_t lo, uint64_t hi) {
  const uint64_t eof = EofEnd(v);
  if (lo >= eof) return Errno(EFAULT);
  const uint64_t clo = std::max(v.start, mm::ChunkDown(lo));
  const uint64_t chi = std::min(eof, mm::ChunkDown(hi - 1) + mm::kChunkSize);
  if (v.shm->immutable()) {
    // Read the chunks in, then map every page of the VMA the cache has
    // (other processes read most of a library's text in already): one
    // fault, and usually one host mmap, for the whole mapping.
    ErrnoOr<int64_t> filled = v.shm->ForEachPageRun(static_cast<int64_t>(v.FileOffset(clo)),
                                                    static_cast<int64_t>(v.FileOffset(chi)), true,
                                                    [](int64_t, uint64_t, uint64_t) {});
    if (!filled.ok()) return filled.error();
    ErrnoOr<int64_t> covered = MapFileRuns(*as, v, v.file_off, v.FileOffset(eof), /*allocate=*/false);
    return covered.ok() ? Errno::Ok() : covered.error();
  }
  PAL_TRY(int64_t covered, MapFileRuns(*as, v, v.FileOffset(clo), v.FileOffset(chi), /*allocate=*/true));
  // The file may have shrunk since EofEnd: lo must still be inside it.
  if (static_cast<uint64_t>(covered) <= v.FileOffset(lo)) return Errno(EFAULT);
  return Errno::Ok();
}

Errno MemoryManager::Impl::PrivatizeFileVma(Vma& v) {
  if (v.shared || !v.shm) return Errno::Ok();
  PAL_TRY(std::shared_ptr<mm::Backing> b, mm::Backing::Allocate(mf, v.len(), false, /*file_backed=*/true));
  as->Unmap(v.start, v.len());
  v.mapped.SetRange(0, v.len() / kPageSize, false);
  v.shm = nullptr;
  v.backing = std::move(b);
  v.backing_off = 0;
  return Errno::Ok();
}

void MemoryManager::Impl::InvalidateFile(const FileMemory& fm, int64_t lo, int64_t hi) {
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [start, v] : vmas) {
    if (v.shm != &fm || lo >= hi) continue;
    // The part of v showing file bytes [lo, hi).
    const uint64_t flo = std::max<uint64_t>(static_cast<uint64_t>(lo), v.file_off);
    const uint64_t fhi = std::min<uint64_t>(static_cast<uint64_t>(hi), v.FileOffset(v.end));
    if (flo >= fhi) continue;
    const uint64_t a = v.start + (flo - v.file_off), b = v.start + (fhi - v.file_off);
    as->Unmap(a, b - a);
    v.mapped.SetRange(v.Page(a), v.Page(b), false);
  }
}

void mm::MmMapper::Invalidate(const FileMemory& fm, int64_t lo, int64_t hi) {
  std::lock_guard<std::mutex> g(mu);
  if (impl) impl->InvalidateFile(fm, lo, hi);
}

void MemoryManager::Impl::WriteBack(Vma& v, uint64_t lo, uint64_t hi) {
  if (!v.is_file() || !v.shared || !v.written || v.shm) return;
  const int64_t size = v.file->Size();
  if (size <= 0) return;
  mm::Backing& b = *v.backing;
  std::lock_guard<std::mutex> g(b.mu);
  const uint64_t first = v.BackingPage(lo);
  for (auto [a, e] : CollectRuns(b.populated, first, v.BackingPage(hi), true)) {
    const uint64_t addr = lo + (a - first) * kPageSize;
    const int64_t off = static_cast<int64_t>(v.FileOffset(addr));
    if (off >= size) break;
    // Never extend the file: pages past its end are not part of it.
    const uint64_t len = std::min<uint64_t>((e - a) * kPageSize, static_cast<uint64_t>(size - off));
    const uint8_t* src = b.Pointer(a * kPageSize);
    for (uint64_t done = 0; done < len;) {
      ErrnoOr<int64_t> n = v.file->WriteAt(std::span<const uint8_t>(src + done, len - done),
                                           off + static_cast<int64_t>(done));
      if (!n.ok() || *n <= 0) {
        spdlog::warn("mm: write-back of {} at {:#x}: {}", v.file->Name(), off + done,
                     n.ok() ? "short write" : n.error().Name());
        return;
      }
      done += static_cast<uint64_t>(*n);
    }
  }
}

Errno MemoryManager::Msync(uint64_t addr, uint64_t len, int flags) {
  Impl& m = *impl_;
  if (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) return Errno(EINVAL);
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return Errno(EINVAL);
  if (!mm::PageAligned(addr)) return Errno(EINVAL);
  if (len == 0) return Errno::Ok();
  len = mm::PageUp(len);
  if (len == 0 || addr + len < addr) return Errno(ENOMEM);
  const uint64_t end = addr + len;
  std::lock_guard<std::mutex> lock(m.mu);
  // As Linux: every mapped part is synced, a hole makes the result ENOMEM.
  // MS_ASYNC writes back synchronously too (it may, and it is simpler);
  // MS_INVALIDATE has nothing to drop: pages are re-read only when absent.
  bool covered = m.ForEachVma(addr, end, [&](Vma& v, uint64_t lo, uint64_t hi) {
    m.WriteBack(v, lo, hi);
  });
  return covered ? Errno::Ok() : Errno(ENOMEM);
}

}  // namespace palisade
