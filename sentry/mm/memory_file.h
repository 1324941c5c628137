// MemoryFile: all application memory lives in one memfd owned by the
// sentry. Address spaces map ranges of it (platform::AddressSpace), and the
// sentry reads/writes app memory through its own mapping of the whole file
// (Pointer()). Ranges are handed out by a first-fit allocator over a large
// sparse file; freed ranges are hole-punched so the host reclaims them.
// Thread-safe.
//
//   auto mf = MemoryFile::Create();
//   ErrnoOr<uint64_t> off = (*mf)->Allocate(1 << 20);
//   memcpy((*mf)->Pointer(*off), data, n);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "base/errno.h"
#include "base/unique_fd.h"

namespace palisade {

class MemoryFile {
 public:
  // capacity: size of the sparse memfd and of the sentry's mapping of it.
  static absl::StatusOr<std::unique_ptr<MemoryFile>> Create(uint64_t capacity = 64ull << 30);
  ~MemoryFile();

  // The MemoryFile in-memory filesystems keep file data in (FileMemory):
  // the sentry registers its own at boot, so tmpfs pages can be mapped
  // into address spaces; a program that registers none (unit tests) gets a
  // process-lifetime one made on first use. Set before any tmpfs exists;
  // the registered file must outlive every FileMemory.
  static MemoryFile& ForFiles();
  static void SetForFiles(MemoryFile* mf);

  int fd() const { return fd_.get(); }
  // A page-aligned range of len bytes (rounded up to pages), zero-filled.
  ErrnoOr<uint64_t> Allocate(uint64_t len);
  // Returns the range to the allocator and releases its host memory.
  void Free(uint64_t offset, uint64_t len);
  // Releases host memory of a range that stays allocated (reads as zero).
  void Decommit(uint64_t offset, uint64_t len);
  // Gives the holes of an allocated range host memory (zeros) now, as a
  // fault would later. Best effort: on failure the pages stay holes.
  void Commit(uint64_t offset, uint64_t len);
  // The sentry's view of byte `offset`. REQUIRES: offset < capacity.
  uint8_t* Pointer(uint64_t offset) const { return base_ + offset; }
  uint64_t capacity() const { return capacity_; }
  // Bytes currently allocated (not necessarily touched).
  uint64_t allocated() const;
  // Calls fn(off, len) for each populated (non-hole) sub-range of
  // [offset, offset+len), via SEEK_DATA/SEEK_HOLE. Used by fork's copy.
  template <typename Fn>
  void ForEachPopulated(uint64_t offset, uint64_t len, Fn fn) const;

 private:
  MemoryFile(UniqueFd fd, uint8_t* base, uint64_t capacity);
  UniqueFd fd_;
  uint8_t* base_;
  uint64_t capacity_;
  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> free_;  // offset -> length, coalesced
  uint64_t allocated_ = 0;
};

}  // namespace palisade

#include "sentry/mm/memory_file_inl.h"
