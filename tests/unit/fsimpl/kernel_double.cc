// Test doubles for the fsimpl unit tests (see io_test_util.h): the Kernel
// constructor, an identity-mapped MemoryManager and SendSigpipe. None of
// the real definitions of these are linked into the test binaries. The
// MemoryFile is the real one (tmpfs keeps its file data in it).
#include <signal.h>

#include <cstring>

#include "sentry/fsimpl/pipe/pipe.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/loader/vdso.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"

namespace palisade {

Kernel::Kernel(std::unique_ptr<MemoryFile> mf, std::unique_ptr<platform::Platform> p, KernelOptions opts)
    : mf_(std::move(mf)), platform_(std::move(p)), opts_(std::move(opts)), boot_mono_ns_(MonotonicNowNs()) {}
Kernel::~Kernel() = default;
// The doubled Kernel never creates a vDSO; its destructor only has to link.
loader::Vdso::~Vdso() = default;

struct MemoryManager::Impl {};
MemoryManager::MemoryManager(MemoryFile&, platform::Platform&) {}
MemoryManager::~MemoryManager() = default;

namespace {
constexpr uint64_t kFaultBelow = 64 * 1024;
}  // namespace

Errno MemoryManager::CopyIn(uint64_t addr, void* dst, size_t len) {
  if (len == 0) return Errno::Ok();
  if (addr < kFaultBelow) return Errno(EFAULT);
  memcpy(dst, reinterpret_cast<const void*>(addr), len);
  return Errno::Ok();
}

Errno MemoryManager::CopyOut(uint64_t addr, const void* src, size_t len) {
  if (len == 0) return Errno::Ok();
  if (addr < kFaultBelow) return Errno(EFAULT);
  memcpy(reinterpret_cast<void*>(addr), src, len);
  return Errno::Ok();
}

ErrnoOr<std::string> MemoryManager::CopyInString(uint64_t addr, size_t max) {
  if (addr < kFaultBelow) return Errno(EFAULT);
  const char* s = reinterpret_cast<const char*>(addr);
  size_t n = strnlen(s, max);
  if (n == max) return Errno(ENAMETOOLONG);
  return std::string(s, n);
}

void SendSigpipe(Task& t) {
  siginfo_t info{};
  info.si_signo = SIGPIPE;
  info.si_code = SI_KERNEL;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    t.internals().pending.push_back(info);
  }
  t.waiter().Notify();
}

}  // namespace palisade
