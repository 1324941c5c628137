#include "platform/ptrace/address_space.h"

#include <sys/mman.h>

#include <algorithm>

#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

constexpr uint64_t kPageMask = 4095;
std::atomic<uint64_t> next_id{1};

bool Aligned(uint64_t v) { return (v & kPageMask) == 0; }

}  // namespace

PtraceAddressSpace::PtraceAddressSpace(uint64_t min_addr, uint64_t max_addr)
    : id_(next_id.fetch_add(1)), min_(min_addr), max_(max_addr) {}

Errno PtraceAddressSpace::MapFile(uint64_t addr, uint64_t len, uint64_t file_offset, int prot) {
  if (!Aligned(addr) || !Aligned(len) || !Aligned(file_offset) || len == 0 || addr < min_ ||
      addr > max_ || len > max_ - addr || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0) {
    return Errno(EINVAL);
  }
  std::lock_guard<std::mutex> l(mu_);
  table_.Map(addr, len, file_offset, prot);
  RecordLocked(Range{addr, addr + len});
  return Errno::Ok();
}

void PtraceAddressSpace::Unmap(uint64_t addr, uint64_t len) {
  if (!Aligned(addr) || !Aligned(len) || addr + len < addr) {
    spdlog::error("ptrace: Unmap({:#x}, {:#x}): not page aligned, ignored", addr, len);
    return;
  }
  const uint64_t start = std::max(addr, min_);
  const uint64_t end = std::min(addr + len, max_);
  if (start >= end) return;
  std::lock_guard<std::mutex> l(mu_);
  table_.Unmap(start, end - start);
  RecordLocked(Range{start, end});
}

void PtraceAddressSpace::RecordLocked(Range r) {
  const uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
  log_.push_back(LogEntry{gen, r});
  if (log_.size() > kMaxLog) {
    log_floor_ = log_.front().generation;
    log_.pop_front();
  }
  generation_.store(gen, std::memory_order_release);
}

AddressSpaceDelta PtraceAddressSpace::DeltaSince(uint64_t since) const {
  AddressSpaceDelta d;
  std::lock_guard<std::mutex> l(mu_);
  d.generation = generation_.load(std::memory_order_relaxed);
  if (since == kFullSync || since < log_floor_ || since > d.generation) {
    d.full = true;
    d.dirty.push_back(Range{min_, max_});
    d.want = table_;
    return d;
  }
  // The log is in generation order: skip what the caller already has.
  for (auto it = log_.rbegin(); it != log_.rend() && it->generation > since; ++it) {
    d.dirty.push_back(it->range);
  }
  NormalizeRanges(d.dirty);
  for (const Range& r : d.dirty) table_.CopyRangeTo(r, d.want);
  return d;
}

}  // namespace palisade::platform
