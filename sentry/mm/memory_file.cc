// MemoryFile: the memfd holding all application memory, and the first-fit
// allocator that hands out ranges of it. See memory_file.h.
#include "sentry/mm/memory_file.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cassert>
#include <cstdlib>
#include <iterator>

#include "absl/status/status.h"
#include "spdlog/spdlog.h"

namespace palisade {
namespace {

constexpr uint64_t kPageSize = 4096;

uint64_t PageRoundUp(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }

// Releases the host pages of [offset, offset+len) while keeping the file
// size: later reads (through any mapping) see zeros, and the host reclaims
// the memory. Punching also zaps the range from every host mapping.
void PunchHole(int fd, uint64_t offset, uint64_t len) {
  if (len == 0) return;
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(len)) != 0) {
    // Not fatal: the range stays allocated and readable, only not reclaimed
    // (and not zeroed, which Allocate() relies on, so say it loudly).
    spdlog::error("MemoryFile: fallocate(PUNCH_HOLE, {:#x}, {:#x}): {}", offset, len,
                  Errno::FromHost().Name());
  }
}

std::atomic<MemoryFile*> g_for_files{nullptr};

}  // namespace

MemoryFile& MemoryFile::ForFiles() {
  if (MemoryFile* mf = g_for_files.load()) return *mf;
  // Nobody registered one: a private one for this process, never freed.
  static MemoryFile* const fallback = [] {
    auto mf = Create(16ull << 30);
    if (!mf.ok()) {
      spdlog::critical("MemoryFile for files: {}", mf.status().ToString());
      std::abort();
    }
    return mf->release();
  }();
  MemoryFile* expected = nullptr;
  g_for_files.compare_exchange_strong(expected, fallback);
  return *g_for_files.load();
}

void MemoryFile::SetForFiles(MemoryFile* mf) { g_for_files.store(mf); }

absl::StatusOr<std::unique_ptr<MemoryFile>> MemoryFile::Create(uint64_t capacity) {
  capacity = PageRoundUp(capacity);
  if (capacity == 0) return absl::InvalidArgumentError("MemoryFile: capacity must be > 0");
  // MFD_CLOEXEC: the memfd must not leak into processes the sentry execs;
  // the platform passes it to its stubs explicitly.
  UniqueFd fd(::memfd_create("palisade-memory", MFD_CLOEXEC));
  if (!fd.ok()) return absl::ErrnoToStatus(errno, "memfd_create \"palisade-memory\"");
  // ftruncate only sets the size: the file stays sparse until touched.
  if (::ftruncate(fd.get(), static_cast<off_t>(capacity)) != 0) {
    return absl::ErrnoToStatus(errno, "ftruncate \"palisade-memory\"");
  }
  // MAP_NORESERVE: the mapping is as large as the capacity but only touched
  // pages count; without it the host may refuse under strict overcommit.
  void* base = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
                      fd.get(), 0);
  if (base == MAP_FAILED) return absl::ErrnoToStatus(errno, "mmap \"palisade-memory\"");
  return std::unique_ptr<MemoryFile>(
      new MemoryFile(std::move(fd), static_cast<uint8_t*>(base), capacity));
}

MemoryFile::MemoryFile(UniqueFd fd, uint8_t* base, uint64_t capacity)
    : fd_(std::move(fd)), base_(base), capacity_(capacity) {
  free_.emplace(0, capacity);
}

MemoryFile::~MemoryFile() {
  MemoryFile* self = this;
  g_for_files.compare_exchange_strong(self, nullptr);
  ::munmap(base_, capacity_);
}

ErrnoOr<uint64_t> MemoryFile::Allocate(uint64_t len) {
  if (len == 0) return Errno(EINVAL);
  if (len > capacity_) return Errno(ENOMEM);
  len = PageRoundUp(len);
  std::lock_guard<std::mutex> lock(mu_);
  // First fit in offset order keeps allocations packed at the low end of
  // the file, so the free tail stays one large block for big requests.
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < len) continue;
    uint64_t off = it->first;
    uint64_t rest = it->second - len;
    free_.erase(it);
    if (rest != 0) free_.emplace(off + len, rest);
    allocated_ += len;
    return off;
  }
  return Errno(ENOMEM);
}

void MemoryFile::Free(uint64_t offset, uint64_t len) {
  len = PageRoundUp(len);
  if (len == 0) return;
  // Punch before the range becomes allocatable again: Allocate() promises
  // zero-filled memory, and the hole is what makes it zero.
  PunchHole(fd_.get(), offset, len);
  std::lock_guard<std::mutex> lock(mu_);
  auto next = free_.lower_bound(offset);
  // A double free or a bad range would corrupt the free list silently.
  assert(next == free_.end() || next->first >= offset + len);
  uint64_t start = offset, end = offset + len;
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    assert(prev->first + prev->second <= offset);
    if (prev->first + prev->second == offset) {  // coalesce with the block below
      start = prev->first;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && next->first == end) {  // and with the block above
    end += next->second;
    free_.erase(next);
  }
  free_.emplace(start, end - start);
  allocated_ -= len;
}

void MemoryFile::Decommit(uint64_t offset, uint64_t len) {
  PunchHole(fd_.get(), offset, PageRoundUp(len));
}

void MemoryFile::Commit(uint64_t offset, uint64_t len) {
  len = PageRoundUp(len);
  if (len == 0 || offset >= capacity_ || capacity_ - offset < len) return;
  // A write fault on each page through the sentry's mapping, without
  // changing data: the pages become real (fallocate would leave them
  // "unwritten", which SEEK_DATA -- and so mincore -- still calls holes).
  if (::madvise(base_ + offset, len, MADV_POPULATE_WRITE) != 0) {
    spdlog::debug("MemoryFile: MADV_POPULATE_WRITE({:#x}, {:#x}): {}", offset, len,
                  Errno::FromHost().Name());
  }
}

uint64_t MemoryFile::allocated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return allocated_;
}

}  // namespace palisade
