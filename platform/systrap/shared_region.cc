#include "platform/systrap/shared_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

#include "base/status_macros.h"

namespace palisade::platform {

static_assert(offsetof(SystrapHeader, state) == PALISADE_SYSTRAP_STATE);
static_assert(offsetof(SystrapHeader, stub_sleeping) == PALISADE_SYSTRAP_STUB_SLEEPING);
static_assert(offsetof(SystrapHeader, sentry_sleeping) == PALISADE_SYSTRAP_SENTRY_SLEEPING);
static_assert(offsetof(SystrapHeader, frame_rsp) == PALISADE_SYSTRAP_FRAME_RSP);
static_assert(offsetof(SystrapHeader, cur_fs) == PALISADE_SYSTRAP_CUR_FS);
static_assert(offsetof(SystrapHeader, cur_gs) == PALISADE_SYSTRAP_CUR_GS);
static_assert(offsetof(SystrapHeader, want_fs) == PALISADE_SYSTRAP_WANT_FS);
static_assert(offsetof(SystrapHeader, want_gs) == PALISADE_SYSTRAP_WANT_GS);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

absl::StatusOr<SharedRegion> SharedRegion::Create() {
  UniqueFd fd(memfd_create("palisade-systrap", MFD_CLOEXEC));
  if (!fd.ok()) return ErrnoStatus(errno, "memfd_create systrap region");
  if (ftruncate(fd.get(), kSize) != 0) return ErrnoStatus(errno, "ftruncate systrap region");
  void* m = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (m == MAP_FAILED) return ErrnoStatus(errno, "mmap systrap region");
  return SharedRegion(std::move(fd), static_cast<char*>(m));
}

SharedRegion::SharedRegion(SharedRegion&& o) noexcept
    : fd_(std::move(o.fd_)), base_(std::exchange(o.base_, nullptr)) {}

SharedRegion::~SharedRegion() {
  if (base_ != nullptr) munmap(base_, kSize);
}

}  // namespace palisade::platform
