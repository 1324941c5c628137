// The memory a systrap stub process and the sentry both map (layout in
// platform/stub/systrap_abi.h): one memfd per stub process holding the
// control page (the mapping-sync table, read-only in the stub) and one
// region per host thread: the header with the futex word the two sides
// hand control over with, and the signal stack holding the app's
// registers (as a kernel signal frame) while the sentry handles an event.
// It is not MemoryFile memory, so no AddressSpace can ever map it into an
// application range.
//
//   PAL_ASSIGN_OR_RETURN(SharedRegions r, SharedRegions::Create());
//   SharedRegion t = r.Slot(3);
//   t.header().want_fs = regs.fs_base;
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "platform/stub/systrap_abi.h"

namespace palisade::platform {

// Mirrors the header described in systrap_abi.h.
struct SystrapHeader {
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> stub_sleeping;
  std::atomic<uint32_t> sentry_sleeping;
  std::atomic<uint32_t> tid_word;
  std::atomic<uint64_t> frame_rsp;
  std::atomic<uint64_t> cur_fs;
  std::atomic<uint64_t> cur_gs;
  std::atomic<uint64_t> want_fs;
  std::atomic<uint64_t> want_gs;
  std::atomic<uint64_t> spawn_region;
  std::atomic<uint64_t> spawn_result;
};

// One thread's region: the sentry's view of it and where the stub sees it.
// Everything in it may be written by any app thread of the process at any
// time: read each value once, and check every address it gives.
class SharedRegion {
 public:
  static constexpr uint64_t kSize = PALISADE_SYSTRAP_SHARED_SIZE;

  SharedRegion() = default;
  SharedRegion(char* base, uint64_t stub_addr) : base_(base), stub_addr_(stub_addr) {}

  bool valid() const { return base_ != nullptr; }
  uint64_t stub_address() const { return stub_addr_; }
  SystrapHeader& header() const { return *reinterpret_cast<SystrapHeader*>(base_); }

  // The sentry's view of [off, off+len) of the region, or nullptr if that
  // range is not inside it. Use this for every address the stub (and so,
  // potentially, the app) reports.
  char* At(uint64_t off, uint64_t len) const {
    return off <= kSize && len <= kSize - off ? base_ + off : nullptr;
  }
  // The same for an address in the stub's view of the region.
  char* AtStubAddress(uint64_t addr, uint64_t len) const {
    return addr < stub_addr_ ? nullptr : At(addr - stub_addr_, len);
  }

 private:
  char* base_ = nullptr;
  uint64_t stub_addr_ = 0;
};

class SharedRegions {
 public:
  static constexpr uint64_t kControlStubAddress = PALISADE_SYSTRAP_CONTROL_ADDR;
  static constexpr uint64_t kControlSize = PALISADE_SYSTRAP_CONTROL_SIZE;
  static constexpr uint64_t kSlotsStubAddress = PALISADE_SYSTRAP_SLOTS_ADDR;
  static constexpr int kMaxSlots = PALISADE_SYSTRAP_MAX_SLOTS;
  static constexpr uint64_t kSlotsSize = uint64_t{kMaxSlots} * SharedRegion::kSize;
  // memfd offsets: the control page, then the slots.
  static constexpr uint64_t kSlotsOffset = kControlSize;

  static absl::StatusOr<SharedRegions> Create();
  SharedRegions(SharedRegions&& o) noexcept;
  SharedRegions& operator=(SharedRegions&&) = delete;
  ~SharedRegions();

  int fd() const { return fd_.get(); }
  // Closes the sentry's fd once the stub has its own mappings.
  void CloseFd() { fd_.reset(); }
  // The control page (the sentry writes, the stub only reads).
  char* control() const { return base_; }
  SharedRegion Slot(int i) const {
    return SharedRegion(base_ + kSlotsOffset + uint64_t(i) * SharedRegion::kSize,
                        kSlotsStubAddress + uint64_t(i) * SharedRegion::kSize);
  }

 private:
  static constexpr uint64_t kTotal = kControlSize + kSlotsSize;
  SharedRegions(UniqueFd fd, char* base) : fd_(std::move(fd)), base_(base) {}
  UniqueFd fd_;
  char* base_ = nullptr;
};

}  // namespace palisade::platform
