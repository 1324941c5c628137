// PtraceAddressSpace: the authoritative mapping table of one application
// address space on the ptrace platform, plus a generation counter and a
// short log of changed ranges. It maps nothing itself: each PtraceContext
// replays the changes into its own stub process at the start of Switch()
// (see context.h), asking DeltaSince() for what changed since it last
// synced.
//
// Visibility: a MapFile()/Unmap() takes effect in a given Context's stub at
// that Context's next Switch(). A thread already running app code in the
// same address space keeps its old view until then; to make a change (an
// Unmap or a protection downgrade, typically) effective at once, call
// Interrupt() on the Contexts that use this address space: their Switch
// returns kInterrupted and the next Switch applies the change.
//
// Thread-safe: MapFile, Unmap and DeltaSince may run on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "platform/platform.h"
#include "platform/ptrace/mapping_table.h"

namespace palisade::platform {

// What a Context needs to bring its stub from generation `since` to
// `generation`: the dirty ranges and the wanted table inside them.
struct AddressSpaceDelta {
  uint64_t generation = 0;
  bool full = false;          // dirty is the whole app range
  std::vector<Range> dirty;   // sorted, disjoint
  MappingTable want;          // authoritative entries clipped to dirty
};

class PtraceAddressSpace : public AddressSpace {
 public:
  // Application addresses allowed: [min, max).
  PtraceAddressSpace(uint64_t min_addr, uint64_t max_addr);

  // EINVAL if not page aligned, empty, outside [min, max) or prot has bits
  // other than PROT_READ|PROT_WRITE|PROT_EXEC.
  Errno MapFile(uint64_t addr, uint64_t len, uint64_t file_offset, int prot) override;
  // Clipped to [min, max); misaligned ranges are logged and ignored.
  void Unmap(uint64_t addr, uint64_t len) override;

  // Unique over the process lifetime (never reused, unlike the pointer):
  // tells a Context that it is switching to a different address space.
  uint64_t id() const { return id_; }
  // Current generation; changes with every MapFile/Unmap. Lock-free so a
  // Switch with nothing new costs no lock.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Changes after generation `since`. since == kFullSync (or too old for
  // the log) gives the whole table with full = true.
  static constexpr uint64_t kFullSync = ~uint64_t{0};
  AddressSpaceDelta DeltaSince(uint64_t since) const;

  // Log entries kept; a Context further behind gets a full diff instead.
  static constexpr size_t kMaxLog = 256;

 private:
  struct LogEntry {
    uint64_t generation;
    Range range;
  };
  void RecordLocked(Range r);

  const uint64_t id_;
  const uint64_t min_;
  const uint64_t max_;
  mutable std::mutex mu_;
  MappingTable table_;             // guarded by mu_
  std::deque<LogEntry> log_;       // guarded by mu_
  uint64_t log_floor_ = 0;         // guarded by mu_: log covers (floor, gen]
  std::atomic<uint64_t> generation_{0};  // written under mu_
};

}  // namespace palisade::platform
