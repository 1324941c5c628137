// MappingTable: a sorted set of non-overlapping page ranges, each mapped to
// an offset of the MemoryFile with PROT_* bits. PtraceAddressSpace keeps the
// authoritative one; each PtraceContext keeps one describing what its stub
// process really has mapped. DiffTables() computes the mmap/munmap calls
// that turn one into the other over some address ranges, coalescing
// neighbouring calls so a stub is synced with as few syscalls as cheaply
// possible. Pure data code: no locking, no host calls.
//
//   MappingTable want;
//   want.Map(0x400000, 0x2000, 0, PROT_READ | PROT_EXEC);
//   std::vector<MemOp> ops;
//   DiffTables(have, want, {{0x400000, 0x402000}}, ops);  // one kMap op
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace palisade::platform {

// [start, end), page aligned.
struct Range {
  uint64_t start = 0;
  uint64_t end = 0;
  bool operator==(const Range&) const = default;
};

struct Mapping {
  uint64_t len = 0;
  uint64_t offset = 0;  // MemoryFile offset of the first byte.
  int prot = 0;         // PROT_READ | PROT_WRITE | PROT_EXEC.
  bool operator==(const Mapping&) const = default;
};

class MappingTable {
 public:
  using Entries = std::map<uint64_t, Mapping>;  // key: start address

  // Maps [addr, addr+len) to file [offset, +len), replacing any overlap.
  // Merges with a neighbour that continues it (same prot, contiguous file
  // offsets) so the table, and the syscalls derived from it, stay small.
  // REQUIRES: len > 0, addr + len does not overflow.
  void Map(uint64_t addr, uint64_t len, uint64_t offset, int prot);
  // Removes [addr, addr+len), splitting entries that straddle its ends.
  void Unmap(uint64_t addr, uint64_t len);
  // Adds to out the entries overlapping r, clipped to r.
  void CopyRangeTo(Range r, MappingTable& out) const;

  const Entries& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  void Clear() { entries_.clear(); }

 private:
  Entries entries_;
};

// One host call that a stub runs to change its mappings.
struct MemOp {
  enum class Kind { kMap, kUnmap };
  Kind kind = Kind::kUnmap;
  uint64_t addr = 0;
  uint64_t len = 0;
  uint64_t offset = 0;  // kMap only
  int prot = 0;         // kMap only
  bool operator==(const MemOp&) const = default;
};

// Appends to ops the calls that make `have` equal `want` inside `ranges`
// (sorted, disjoint). Pages that already match produce no call; adjacent
// calls of the same kind that continue each other are merged. A kMap op
// relies on MAP_FIXED replacing whatever is there, so no kUnmap precedes it.
void DiffTables(const MappingTable& have, const MappingTable& want,
                const std::vector<Range>& ranges, std::vector<MemOp>& ops);

// Sorts ranges and merges overlapping or touching ones, in place.
void NormalizeRanges(std::vector<Range>& ranges);

}  // namespace palisade::platform
