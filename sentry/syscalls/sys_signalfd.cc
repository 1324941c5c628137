// signalfd and signalfd4 (signalfd(2)). The file is SignalFd
// (sentry/fsimpl/signalfd/signalfd.h); reads go through the usual read(2)
// path and its blocking rules.
#include <sys/signalfd.h>

#include <algorithm>
#include <climits>

#include "sentry/fsimpl/signalfd/signalfd.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/handlers_fdtypes.h"
#include "sentry/syscalls/sys_poll_common.h"

namespace palisade::sys {
namespace {

// do_signalfd4()'s order: flags and size (EINVAL), the mask (EFAULT), then
// the fd (EBADF, or EINVAL if it is not a signalfd).
SyscallResult DoSignalfd(Task& t, int ufd, uint64_t mask_addr, uint64_t size, int flags) {
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) return Errno(EINVAL);
  if (size != sizeof(uint64_t)) return Errno(EINVAL);
  SigSet mask;
  PAL_TRY_ERRNO(t.CopyInObj(mask_addr, mask.bits));
  if (ufd == -1) {
    auto f = std::make_shared<SignalFd>(mask, flags);
    int limit = static_cast<int>(std::min<uint64_t>(NofileLimit(t), INT_MAX));
    PAL_TRY(int fd, t.fds().Add(f, flags & SFD_CLOEXEC, 0, limit));
    return int64_t(fd);
  }
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(ufd));
  auto sf = std::dynamic_pointer_cast<SignalFd>(f);
  if (!sf) return Errno(EINVAL);
  sf->set_mask(mask);
  // A new mask may make pending signals readable: wake pollers.
  t.thread_group().signalfd_queue.Notify(POLLIN | POLLRDNORM);
  return int64_t(ufd);
}

}  // namespace

SyscallResult Signalfd(Task& t, const SyscallArgs& a) {
  return DoSignalfd(t, a[0].Int(), a[1].Ptr(), a[2].Size(), 0);
}

SyscallResult Signalfd4(Task& t, const SyscallArgs& a) {
  return DoSignalfd(t, a[0].Int(), a[1].Ptr(), a[2].Size(), a[3].Int());
}

}  // namespace palisade::sys
