// MappableFile: what mmap(2) of a file needs from a filesystem. Private
// mappings copy file bytes into MemoryFile pages on first touch (so do
// shared ones of files without Memory()); the
// identity fields feed /proc/<pid>/maps.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/errno.h"

namespace palisade {

class FileMemory;

class MappableFile {
 public:
  virtual ~MappableFile() = default;
  // Reads up to dst.size() bytes at off; short at end of file.
  virtual ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) = 0;
  // Writes back (MAP_SHARED writes on msync/munmap); EACCES if read-only.
  virtual ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off) { return Errno(EACCES); }
  virtual int64_t Size() = 0;
  // Files whose bytes live in the MemoryFile (tmpfs): MAP_SHARED mappings
  // map these pages themselves, so they are coherent with read/write.
  // Null: shared mappings keep a copy written back on msync/munmap.
  virtual FileMemory* Memory() { return nullptr; }
  // A page cache (FileMemory::NewImmutableCache) for a file nothing can
  // change while the sandbox runs (the rootfs's lower layer): private
  // mappings without PROT_WRITE map its pages directly, so every process
  // of the sandbox shares one copy of a library's text, and a page read in
  // once is never read again. Kept alive by this object. Null: none.
  virtual FileMemory* ImmutablePages() { return nullptr; }
  virtual std::string Name() const = 0;  // absolute path for /proc/pid/maps
  virtual uint64_t Dev() const { return 0; }
  virtual uint64_t Ino() const { return 0; }
};

}  // namespace palisade
