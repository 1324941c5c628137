#include "platform/ptrace/stub_page.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "platform/stub/stub_x86_64.h"
#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

std::mutex page_mu;
const StubPage* page_singleton = nullptr;  // guarded by page_mu; never freed

}  // namespace

absl::StatusOr<const StubPage*> StubPage::Get() {
  std::lock_guard<std::mutex> l(page_mu);
  if (page_singleton != nullptr) return page_singleton;
  if (StubCodeSize() > kSize) {
    return absl::InternalError(absl::StrFormat("stub code is %d bytes, more than a page",
                                               StubCodeSize()));
  }
  void* want = reinterpret_cast<void*>(kAddress);
  // Writable only until the code is copied in: the page is then sealed to
  // read+exec, which is what stubs (and so applications) see.
  void* got = mmap(want, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
  if (got == MAP_FAILED) {
    const int err = errno;
    if (err == EEXIST) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "ptrace stub page %#x is already mapped by something else in the sentry", kAddress));
    }
    return ErrnoStatus(err, "mmap ptrace stub page", absl::StrFormat("%#x", kAddress));
  }
  if (got != want) {
    // Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and place it elsewhere.
    munmap(got, kSize);
    return absl::FailedPreconditionError(
        absl::StrFormat("ptrace stub page: kernel placed it at %p, not %#x", got, kAddress));
  }
  std::memcpy(got, palisade_stub_begin, StubCodeSize());
  if (mprotect(got, kSize, PROT_READ | PROT_EXEC) != 0) {
    const int err = errno;
    munmap(got, kSize);
    return ErrnoStatus(err, "mprotect ptrace stub page", absl::StrFormat("%#x", kAddress));
  }
  page_singleton = new StubPage();
  spdlog::debug("ptrace: stub page mapped at {:#x} ({} bytes of code)", kAddress, StubCodeSize());
  return page_singleton;
}

uint64_t StubPage::unmap_all() const { return kAddress + StubOffset(palisade_stub_unmap_all); }
uint64_t StubPage::unmap_all_done() const {
  return kAddress + StubOffset(palisade_stub_unmap_all_done);
}
uint64_t StubPage::syscall_insn() const { return kAddress + StubOffset(palisade_stub_syscall); }
uint64_t StubPage::syscall_done() const {
  return kAddress + StubOffset(palisade_stub_syscall_done);
}

}  // namespace palisade::platform
