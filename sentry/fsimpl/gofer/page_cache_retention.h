// Keeps the page caches of recently mapped rootfs files (FileMemory::
// NewImmutableCache) alive for a while after their last mapping is gone,
// up to a byte budget, least recently used first out: a program run again
// and again (a shell script's commands, a compiler driver's cc1, python)
// then finds its text already read in. Linux keeps its page cache until
// memory runs short; here the memory counts against the container's
// limit, so the budget is small and set from it (BootConfig).
//
//   gofer::SetPageCacheRetention(16 << 20);
//   gofer::RetainPageCache(cache);  // on every mmap of the file
#pragma once

#include <cstdint>
#include <memory>

#include "sentry/mm/file_memory.h"

namespace palisade::gofer {

inline constexpr int64_t kDefaultPageCacheRetention = 32 << 20;

// Bytes of page cache kept beyond live mappings; 0 keeps none. Entries
// over a new, smaller budget go at the next RetainPageCache().
void SetPageCacheRetention(int64_t bytes);
// Marks cache as just used, keeping it (and evicting the least recently
// used others) within the budget.
void RetainPageCache(const std::shared_ptr<FileMemory>& cache);
// Bytes held by the retained caches now (tests).
int64_t RetainedPageCacheBytes();

}  // namespace palisade::gofer
