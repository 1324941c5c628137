// Template bodies of MemoryFile, kept out of memory_file.h so the class
// declaration stays readable. Included at the end of memory_file.h only.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace palisade {

// SEEK_DATA/SEEK_HOLE report the memfd's allocated extents at page
// granularity, so holes (never touched, decommitted or freed pages) are
// skipped without reading them. lseek also moves the fd's shared file
// position, which nobody uses: all other accesses go through mmap.
template <typename Fn>
void MemoryFile::ForEachPopulated(uint64_t offset, uint64_t len, Fn fn) const {
  const uint64_t end = offset + len;
  uint64_t cur = offset;
  while (cur < end) {
    off_t data = ::lseek(fd_.get(), static_cast<off_t>(cur), SEEK_DATA);
    if (data < 0) return;  // ENXIO: no data at or after cur.
    uint64_t start = static_cast<uint64_t>(data);
    if (start >= end) return;
    off_t hole = ::lseek(fd_.get(), data, SEEK_HOLE);
    // SEEK_HOLE cannot fail after a successful SEEK_DATA (EOF counts as a
    // hole); treat a failure as "data up to end" rather than loop forever.
    uint64_t stop = hole < 0 ? end : std::min<uint64_t>(static_cast<uint64_t>(hole), end);
    fn(start, stop - start);
    cur = stop;
  }
}

}  // namespace palisade
