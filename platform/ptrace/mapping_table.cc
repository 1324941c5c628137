#include "platform/ptrace/mapping_table.h"

#include <algorithm>
#include <iterator>

namespace palisade::platform {

void MappingTable::Map(uint64_t addr, uint64_t len, uint64_t offset, int prot) {
  Unmap(addr, len);
  uint64_t start = addr;
  uint64_t end = addr + len;
  uint64_t off = offset;
  // After Unmap nothing overlaps [addr, end): next is the first entry at or
  // after end, and its predecessor (if any) ends at or before addr.
  auto next = entries_.lower_bound(addr);
  if (next != entries_.begin()) {
    auto prev = std::prev(next);
    const Mapping& p = prev->second;
    if (prev->first + p.len == addr && p.prot == prot && p.offset + p.len == offset) {
      start = prev->first;
      off = p.offset;
      entries_.erase(prev);
    }
  }
  if (next != entries_.end() && next->first == end && next->second.prot == prot &&
      next->second.offset == offset + len) {
    end += next->second.len;
    entries_.erase(next);
  }
  entries_[start] = Mapping{end - start, off, prot};
}

void MappingTable::Unmap(uint64_t addr, uint64_t len) {
  if (len == 0) return;
  const uint64_t end = addr + len;
  // Start from the entry that may straddle addr.
  auto it = entries_.upper_bound(addr);
  if (it != entries_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.len > addr) it = prev;
  }
  while (it != entries_.end() && it->first < end) {
    const uint64_t s = it->first;
    const Mapping m = it->second;
    const uint64_t e = s + m.len;
    it = entries_.erase(it);
    if (s < addr) entries_[s] = Mapping{addr - s, m.offset, m.prot};
    if (e > end) {
      // The tail is inserted before `it`'s position; it is past the loop.
      entries_[end] = Mapping{e - end, m.offset + (end - s), m.prot};
      break;
    }
  }
}

void MappingTable::CopyRangeTo(Range r, MappingTable& out) const {
  auto it = entries_.upper_bound(r.start);
  if (it != entries_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.len > r.start) it = prev;
  }
  for (; it != entries_.end() && it->first < r.end; ++it) {
    const uint64_t s = std::max(it->first, r.start);
    const uint64_t e = std::min(it->first + it->second.len, r.end);
    // Entries of one table never overlap, so a plain insert is enough and
    // keeps the clipped pieces (which may not merge) as they are.
    out.entries_[s] = Mapping{e - s, it->second.offset + (s - it->first), it->second.prot};
  }
}

namespace {

// What a table has at one address, up to the next change (or limit).
struct Segment {
  bool mapped = false;
  uint64_t end = 0;
  uint64_t offset = 0;
  int prot = 0;
};

Segment SegmentAt(const MappingTable::Entries& e, uint64_t addr, uint64_t limit) {
  auto it = e.upper_bound(addr);
  if (it != e.begin()) {
    auto prev = std::prev(it);
    const uint64_t pend = prev->first + prev->second.len;
    if (pend > addr) {
      return Segment{true, std::min(pend, limit), prev->second.offset + (addr - prev->first),
                     prev->second.prot};
    }
  }
  return Segment{false, it == e.end() ? limit : std::min(it->first, limit), 0, 0};
}

void Append(std::vector<MemOp>& ops, const MemOp& op) {
  if (!ops.empty()) {
    MemOp& last = ops.back();
    if (last.kind == op.kind && last.addr + last.len == op.addr &&
        (op.kind == MemOp::Kind::kUnmap ||
         (last.prot == op.prot && last.offset + last.len == op.offset))) {
      last.len += op.len;
      return;
    }
  }
  ops.push_back(op);
}

}  // namespace

void DiffTables(const MappingTable& have, const MappingTable& want,
                const std::vector<Range>& ranges, std::vector<MemOp>& ops) {
  for (const Range& r : ranges) {
    uint64_t cur = r.start;
    while (cur < r.end) {
      const Segment h = SegmentAt(have.entries(), cur, r.end);
      const Segment w = SegmentAt(want.entries(), cur, r.end);
      const uint64_t next = std::min(h.end, w.end);
      const bool same = h.mapped == w.mapped &&
                        (!w.mapped || (h.offset == w.offset && h.prot == w.prot));
      if (!same) {
        if (w.mapped) {
          Append(ops, MemOp{MemOp::Kind::kMap, cur, next - cur, w.offset, w.prot});
        } else {
          Append(ops, MemOp{MemOp::Kind::kUnmap, cur, next - cur, 0, 0});
        }
      }
      cur = next;
    }
  }
}

void NormalizeRanges(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  size_t out = 0;
  for (const Range& r : ranges) {
    if (r.start >= r.end) continue;
    if (out > 0 && ranges[out - 1].end >= r.start) {
      ranges[out - 1].end = std::max(ranges[out - 1].end, r.end);
    } else {
      ranges[out++] = r;
    }
  }
  ranges.resize(out);
}

}  // namespace palisade::platform
