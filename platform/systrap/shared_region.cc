#include "platform/systrap/shared_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <utility>

#include "base/status_macros.h"

namespace palisade::platform {

static_assert(offsetof(SystrapHeader, state) == PALISADE_SYSTRAP_STATE);
static_assert(offsetof(SystrapHeader, stub_sleeping) == PALISADE_SYSTRAP_STUB_SLEEPING);
static_assert(offsetof(SystrapHeader, sentry_sleeping) == PALISADE_SYSTRAP_SENTRY_SLEEPING);
static_assert(offsetof(SystrapHeader, tid_word) == PALISADE_SYSTRAP_TID_WORD);
static_assert(offsetof(SystrapHeader, frame_rsp) == PALISADE_SYSTRAP_FRAME_RSP);
static_assert(offsetof(SystrapHeader, cur_fs) == PALISADE_SYSTRAP_CUR_FS);
static_assert(offsetof(SystrapHeader, cur_gs) == PALISADE_SYSTRAP_CUR_GS);
static_assert(offsetof(SystrapHeader, want_fs) == PALISADE_SYSTRAP_WANT_FS);
static_assert(offsetof(SystrapHeader, want_gs) == PALISADE_SYSTRAP_WANT_GS);
static_assert(offsetof(SystrapHeader, spawn_region) == PALISADE_SYSTRAP_SPAWN_REGION);
static_assert(offsetof(SystrapHeader, spawn_result) == PALISADE_SYSTRAP_SPAWN_RESULT);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(PALISADE_SYSTRAP_SLOTS_ADDR == PALISADE_SYSTRAP_CONTROL_ADDR + PALISADE_SYSTRAP_CONTROL_SIZE);

absl::StatusOr<SharedRegions> SharedRegions::Create() {
  UniqueFd fd(memfd_create("palisade-systrap", MFD_CLOEXEC));
  if (!fd.ok()) return ErrnoStatus(errno, "memfd_create systrap regions");
  // Sparse: a page is only allocated when a thread's region first uses it.
  if (ftruncate(fd.get(), kTotal) != 0) return ErrnoStatus(errno, "ftruncate systrap regions");
  void* m = mmap(nullptr, kTotal, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (m == MAP_FAILED) return ErrnoStatus(errno, "mmap systrap regions");
  return SharedRegions(std::move(fd), static_cast<char*>(m));
}

SharedRegions::SharedRegions(SharedRegions&& o) noexcept
    : fd_(std::move(o.fd_)), base_(std::exchange(o.base_, nullptr)) {}

SharedRegions::~SharedRegions() {
  if (base_ != nullptr) munmap(base_, kTotal);
}

}  // namespace palisade::platform
