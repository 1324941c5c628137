// MappingSync: what one stub process really has mapped in the application
// range, and the logic that brings it up to date with an AddressSpace by
// running mmap/munmap calls in the stub (see address_space.h for when
// changes become visible). Shared by the ptrace and systrap contexts, which
// differ only in how they get the stub to run those calls.
//
//   if (!sync.UpToDate(as)) ok = sync.Sync(as, [&](const MemOp& op) { return Run(op); });
#pragma once

#include <cstdint>
#include <functional>

#include "platform/ptrace/address_space.h"
#include "platform/ptrace/mapping_table.h"
#include "platform/ptrace/stub_process.h"

namespace palisade::platform {

class MappingSync {
 public:
  MappingSync(uint64_t min_addr, uint64_t max_addr) : min_(min_addr), max_(max_addr) {}

  // Nothing to do for `as` (lock-free).
  bool UpToDate(const PtraceAddressSpace& as) const {
    return as.id() == as_id_ && as.generation() == synced_gen_;
  }
  // Runs the calls that make the stub match `as`; false as soon as one
  // fails (the caller kills the stub: its view is unknown).
  bool Sync(PtraceAddressSpace& as, const std::function<bool(const MemOp&)>& apply);
  // The next Sync starts from a clean slate (Context::ResetAddressSpace).
  void Reset() {
    as_id_ = 0;
    view_dirty_ = true;
  }

 private:
  const uint64_t min_;
  const uint64_t max_;
  MappingTable view_;
  uint64_t as_id_ = 0;  // 0: none yet (or reset)
  uint64_t synced_gen_ = 0;
  bool view_dirty_ = false;  // Reset(): view_ may be wrong
};

// The host syscall that carries op out in a stub (mmap of the MemoryFile
// fd, MAP_SHARED | MAP_FIXED, as the stub filters allow; or munmap), and
// the result that means it worked.
struct MemOpCall {
  uint64_t nr;
  uint64_t args[6];
  uint64_t want;
};
MemOpCall MemOpSyscall(const MemOp& op);
// Logs op having returned result instead of MemOpCall::want.
void LogMemOpFailure(pid_t stub, const MemOp& op, int64_t result);

// Runs op in a stopped, traced stub by syscall injection. False (logged)
// if the call failed; the stub is then killed.
bool InjectMemOp(StubProcess& stub, const MemOp& op);

}  // namespace palisade::platform
