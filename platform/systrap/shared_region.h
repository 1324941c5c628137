// SharedRegion: the per-context memory a systrap stub and the sentry both
// map (layout in platform/stub/systrap_abi.h): the header with the futex
// word the two sides hand control over with, and the signal stack holding
// the app's registers (as a kernel signal frame) while the sentry handles
// an event. It is a memfd of its own, not MemoryFile memory, so no
// AddressSpace can ever map it into an application range.
//
//   PAL_ASSIGN_OR_RETURN(SharedRegion r, SharedRegion::Create());
//   r.header().want_fs = regs.fs_base;
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
  uint32_t pad;
  std::atomic<uint64_t> frame_rsp;
  std::atomic<uint64_t> cur_fs;
  std::atomic<uint64_t> cur_gs;
  std::atomic<uint64_t> want_fs;
  std::atomic<uint64_t> want_gs;
};

class SharedRegion {
 public:
  static constexpr uint64_t kStubAddress = PALISADE_SYSTRAP_SHARED_ADDR;
  static constexpr uint64_t kSize = PALISADE_SYSTRAP_SHARED_SIZE;

  static absl::StatusOr<SharedRegion> Create();
  SharedRegion(SharedRegion&& o) noexcept;
  SharedRegion& operator=(SharedRegion&&) = delete;
  ~SharedRegion();

  int fd() const { return fd_.get(); }
  // Closes the sentry's fd once the stub has its own mapping.
  void CloseFd() { fd_.reset(); }
  SystrapHeader& header() const { return *reinterpret_cast<SystrapHeader*>(base_); }

  // The sentry's view of [off, off+len) of the region, or nullptr if that
  // range is not inside it. Use this for every address the stub (and so,
  // potentially, the app) reports.
  char* At(uint64_t off, uint64_t len) const {
    return off <= kSize && len <= kSize - off ? base_ + off : nullptr;
  }
  // The same for an address in the stub's view of the region.
  char* AtStubAddress(uint64_t addr, uint64_t len) const {
    return addr < kStubAddress ? nullptr : At(addr - kStubAddress, len);
  }

 private:
  SharedRegion(UniqueFd fd, char* base) : fd_(std::move(fd)), base_(base) {}
  UniqueFd fd_;
  char* base_ = nullptr;
};

}  // namespace palisade::platform
