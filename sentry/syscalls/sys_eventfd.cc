// eventfd and eventfd2 (eventfd(2)). The file is EventFd
// (sentry/fsimpl/anon/eventfd.h); reads and writes go through the usual
// read(2)/write(2) path and its blocking rules.
#include <sys/eventfd.h>

#include <algorithm>
#include <climits>

#include "sentry/fsimpl/anon/eventfd.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/sys_poll_common.h"

namespace palisade::sys {
namespace {

SyscallResult DoEventfd(Task& t, unsigned initval, int flags) {
  if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return Errno(EINVAL);
  auto f = std::make_shared<EventFd>(initval, flags);
  int limit = static_cast<int>(std::min<uint64_t>(NofileLimit(t), INT_MAX));
  PAL_TRY(int fd, t.fds().Add(f, flags & EFD_CLOEXEC, 0, limit));
  return int64_t(fd);
}

}  // namespace

// The initial value is an unsigned int, whatever the register holds.
SyscallResult Eventfd(Task& t, const SyscallArgs& a) { return DoEventfd(t, a[0].Uint(), 0); }

SyscallResult Eventfd2(Task& t, const SyscallArgs& a) { return DoEventfd(t, a[0].Uint(), a[1].Int()); }

}  // namespace palisade::sys
