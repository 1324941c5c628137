// FileMemory: the bytes of an in-memory file (a tmpfs regular file) kept
// in the MemoryFile, so read(2)/write(2) and MAP_SHARED mappings of the
// file use the very same pages, as Linux's shmem page cache: a store
// through a mapping is seen by read() at once, in every process, and a
// write() by every mapping. Private mappings still copy pages (mm).
//
// Storage: chunks of kChunkPages pages allocated from the MemoryFile on
// first write (or first shared-mapping fault), with a bitmask of the pages
// holding data (st_blocks, SEEK_DATA/SEEK_HOLE; any other page reads as
// zero and is a hole in the memfd). Hole punches and truncation decommit
// pages, which the host zaps from every mapping (they read as zero again).
// Truncation also tells the mappers (MemoryManagers) to unmap the pages
// past the new end, so touching them raises SIGBUS as on Linux.
//
// Safety: chunk ranges go back to the MemoryFile allocator only while no
// MAP_SHARED mapping was ever made of the file, or when the FileMemory
// dies (mappings keep the file alive), so an address space can never be
// left mapping memory that was reused for something else.
//
// Thread-safe. Lock order: MemoryManager mutex -> FileMemory::mu_ ->
// MemoryFile::mu_. Invalidate() of mappers runs with mu_ released.
//
//   FileMemory fm(MemoryFile::ForFiles());
//   int64_t end;
//   fm.Write(bytes, 0, /*append=*/false, &end);
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "base/errno.h"
#include "sentry/mm/memory_file.h"

namespace palisade {

class FileMemory;

// Something mapping a FileMemory's pages (a MemoryManager).
class FileMapper {
 public:
  virtual ~FileMapper() = default;
  // Drops this mapper's mappings of fm's file range [lo, hi) so the next
  // access faults. Called with no FileMemory lock held.
  virtual void Invalidate(const FileMemory& fm, int64_t lo, int64_t hi) = 0;
};

class FileMemory {
 public:
  static constexpr int64_t kPageSize = 4096;
  static constexpr int64_t kChunkPages = 16;  // 64 KiB: one uint64_t bitmask
  static constexpr int64_t kChunkSize = kChunkPages * kPageSize;

  // pages_counter (may be null) follows the number of data pages, for a
  // filesystem's statfs.
  explicit FileMemory(MemoryFile& mf, std::atomic<int64_t>* pages_counter = nullptr);
  ~FileMemory();

  // Reads file bytes at an offset (MappableFile::ReadAt); short at EOF.
  using Source = std::function<ErrnoOr<int64_t>(std::span<uint8_t>, int64_t)>;
  // A read-only page cache of a file nothing can change (the rootfs, see
  // MappableFile::ImmutablePages): `size` bytes, read from `source` a
  // 64 KiB chunk at a time on first use, into one MemoryFile range
  // reserved up front so the file's pages are contiguous there (a mapping
  // of many cached chunks is then one host mmap). Only ForEachPageRun,
  // Read, Size and Pages may be used on it. ENOMEM: no room to reserve.
  static ErrnoOr<std::shared_ptr<FileMemory>> NewImmutableCache(MemoryFile& mf, int64_t size, Source source);
  bool immutable() const { return static_cast<bool>(source_); }
  FileMemory(const FileMemory&) = delete;
  FileMemory& operator=(const FileMemory&) = delete;

  // Short at end of file; holes read as zeros.
  ErrnoOr<int64_t> Read(std::span<uint8_t> dst, int64_t off);
  // append: at the end. *end gets the offset after the write. EFBIG at the
  // maximum file size, ENOSPC when the MemoryFile is full.
  ErrnoOr<int64_t> Write(std::span<const uint8_t> src, int64_t off, bool append, int64_t* end);
  // Write of the bytes of src one after another (the sentry's views of app
  // buffers: see MemoryManager::WithReadableViews).
  ErrnoOr<int64_t> WriteV(std::span<const struct iovec> src, int64_t off, bool append, int64_t* end);
  int64_t Size();
  int64_t Pages();  // data pages (st_blocks = Pages() * 8)
  // Sets the size; shrinking drops the data past it (and mappings of it).
  Errno Truncate(int64_t size);
  // SEEK_DATA / SEEK_HOLE at page granularity; ENXIO at or past the end.
  ErrnoOr<int64_t> SeekDataOrHole(int64_t off, bool hole);
  // fallocate(2): mode 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE.
  // *changed: the data or size changed (for mtime/ctime).
  Errno Allocate(int mode, int64_t off, int64_t len, bool* changed);

  // For MAP_SHARED mappings (mm). Calls fn(file_off, mf_off, len) for the
  // page runs of [lo, hi) (page aligned) in order, giving each page memory
  // (a data page) when allocate is set, else skipping holes. Runs stop at
  // the page holding end of file; returns the end actually covered.
  // ENOMEM when the MemoryFile is full. REQUIRES: fn takes no lock of this.
  template <typename Fn>
  ErrnoOr<int64_t> ForEachPageRun(int64_t lo, int64_t hi, bool allocate, Fn fn);
  // Registers a mapper to be told about truncation (kept weakly; dead ones
  // are dropped). Also stops chunks from being returned before ~FileMemory.
  void AddMapper(const std::shared_ptr<FileMapper>& m);
  MemoryFile& mf() const { return mf_; }

 private:
  struct Chunk {
    uint64_t mf_off = 0;   // kChunkSize bytes in the MemoryFile
    uint64_t present = 0;  // bit i: page i holds data
  };
  // The chunk for index, allocating it if create. REQUIRES: mu_ held.
  ErrnoOr<Chunk*> ChunkLocked(int64_t index, bool create);
  void MarkPresentLocked(Chunk& c, uint64_t bits);
  // Decommits [lo, hi) (page aligned) and forgets its pages. REQUIRES: mu_.
  void DropLocked(int64_t lo, int64_t hi);
  void ZeroLocked(int64_t off, int64_t len);  // within existing chunks only
  // Returns the chunks wholly past end to the MemoryFile if no mapper ever
  // registered. REQUIRES: mu_ held.
  void ReleaseTailLocked(int64_t end);
  // Returns the chunks from `first` on to the MemoryFile. REQUIRES: mu_.
  void FreeChunksLocked(std::map<int64_t, Chunk>::iterator first);

  // Fills a new chunk of an immutable cache from source_. REQUIRES: mu_.
  Errno FillLocked(int64_t index, Chunk& c);

  MemoryFile& mf_;
  std::atomic<int64_t>* const pages_counter_;
  Source source_;               // immutable caches only
  uint64_t reserved_off_ = 0;   // their MemoryFile range
  uint64_t reserved_len_ = 0;
  std::mutex mu_;
  std::map<int64_t, Chunk> chunks_;  // by chunk index; guarded by mu_
  int64_t size_ = 0;                 // guarded by mu_
  int64_t pages_ = 0;                // guarded by mu_
  bool ever_mapped_ = false;         // guarded by mu_
  std::vector<std::weak_ptr<FileMapper>> mappers_;  // guarded by mu_
};

template <typename Fn>
ErrnoOr<int64_t> FileMemory::ForEachPageRun(int64_t lo, int64_t hi, bool allocate, Fn fn) {
  std::lock_guard<std::mutex> l(mu_);
  const int64_t eof_page = (size_ + kPageSize - 1) / kPageSize * kPageSize;
  if (hi > eof_page) hi = eof_page;
  // Runs are merged across chunks that happen to be contiguous in the
  // MemoryFile (sequentially written files usually are).
  int64_t run_file = 0, run_len = 0;
  uint64_t run_mf = 0;
  auto flush = [&] {
    if (run_len > 0) fn(run_file, run_mf, static_cast<uint64_t>(run_len));
    run_len = 0;
  };
  for (int64_t cur = lo; cur < hi;) {
    const int64_t index = cur / kChunkSize, in = cur % kChunkSize;
    const int64_t n = std::min(hi - cur, kChunkSize - in);
    ErrnoOr<Chunk*> c = ChunkLocked(index, allocate);
    if (!c.ok()) {
      flush();
      return c.error();
    }
    if (*c == nullptr) {  // a hole, not allocating
      flush();
      cur += n;
      continue;
    }
    Chunk& ch = **c;
    const int64_t first = in / kPageSize, last = (in + n) / kPageSize;
    for (int64_t p = first; p < last; ++p) {
      const bool has = (ch.present >> p) & 1;
      if (!has && !allocate) {
        flush();
        continue;
      }
      const int64_t fo = index * kChunkSize + p * kPageSize;
      const uint64_t mo = ch.mf_off + static_cast<uint64_t>(p * kPageSize);
      if (run_len > 0 && run_file + run_len == fo && run_mf + static_cast<uint64_t>(run_len) == mo) {
        run_len += kPageSize;
      } else {
        flush();
        run_file = fo;
        run_mf = mo;
        run_len = kPageSize;
      }
    }
    if (allocate) MarkPresentLocked(ch, (last - first == 64 ? ~0ull : ((1ull << (last - first)) - 1)) << first);
    cur += n;
  }
  flush();
  return hi;
}

}  // namespace palisade
