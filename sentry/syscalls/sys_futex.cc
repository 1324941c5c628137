// futex(2). Keys are per address space (see FutexTable); PI operations are
// not supported (ENOSYS), as the table notes.
#include <linux/futex.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers.h"

namespace palisade::sys {

SyscallResult Futex(Task& t, const SyscallArgs& a) {
  uint64_t addr = a[0].Ptr();
  int op = a[1].Int();
  int cmd = op & FUTEX_CMD_MASK;
  bool realtime = op & FUTEX_CLOCK_REALTIME;
  uint32_t val = a[2].Uint();
  if (addr & 3) return Errno(EINVAL);
  bool is_private = op & FUTEX_PRIVATE_FLAG;
  // Shared futexes in MAP_SHARED memory are keyed by the MemoryFile offset,
  // so processes sharing the mapping (after fork) meet on one key; private
  // memory is keyed per address space, as Linux does.
  auto key_for = [&](uint64_t a) {
    if (!is_private) {
      auto off = t.mm().SharedOffset(a);
      if (off.ok()) return FutexKey(&t.kernel().memory_file(), *off, a);
    }
    return FutexKey(&t.mm(), a);
  };
  FutexKey key = key_for(addr);
  auto& ft = t.kernel().futexes();

  auto deadline_from = [&](bool absolute) -> ErrnoOr<int64_t> {
    if (!a[3].Ptr()) return int64_t(-1);
    struct timespec ts;
    PAL_TRY_ERRNO(t.CopyInObj(a[3].Ptr(), ts));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Errno(EINVAL);
    int64_t ns = ts.tv_sec * 1000000000ll + ts.tv_nsec;
    if (!absolute) return MonotonicNowNs() + ns;
    if (realtime) {
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      return MonotonicNowNs() + (ns - (now.tv_sec * 1000000000ll + now.tv_nsec));
    }
    return ns;
  };

  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : a[5].Uint();
      if (bitset == 0) return Errno(EINVAL);
      if (cmd == FUTEX_WAIT && realtime) return Errno(ENOSYS);
      PAL_TRY(int64_t deadline, deadline_from(cmd == FUTEX_WAIT_BITSET));
      Errno e = ft.Wait(t, key, val, bitset, deadline);
      if (e == Errno(EINTR)) return Errno(kERESTARTSYS);
      if (!e.ok()) return e;
      return int64_t(0);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : a[5].Uint();
      if (bitset == 0) return Errno(EINVAL);
      return int64_t(ft.Wake(key, static_cast<int>(std::min<uint32_t>(val, INT32_MAX)), bitset));
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      int n2 = static_cast<int>(a[3].raw);  // val2 travels in the timeout slot
      if (static_cast<int>(val) < 0 || n2 < 0) return Errno(EINVAL);
      FutexKey to = key_for(a[4].Ptr());
      uint32_t cmp = a[5].Uint();
      return ft.Requeue(t, key, to, static_cast<int>(val), n2, cmd == FUTEX_CMP_REQUEUE ? &cmp : nullptr);
    }
    case FUTEX_WAKE_OP: {
      FutexKey k2 = key_for(a[4].Ptr());
      return ft.WakeOp(t, key, k2, static_cast<int>(val), static_cast<int>(a[3].raw), a[5].Uint());
    }
    default:
      return Errno(ENOSYS);
  }
}

}  // namespace palisade::sys
