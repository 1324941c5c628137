// pipe and pipe2 (pipe(2)). The pipe itself is sentry/fsimpl/pipe; the
// F_GETPIPE_SZ/F_SETPIPE_SZ fcntls are PipeGetSize/PipeSetSize there.
#include <fcntl.h>

#include <algorithm>
#include <climits>

#include "sentry/fsimpl/pipe/pipe_file.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/sys_poll_common.h"

namespace palisade::sys {
namespace {

// O_NOTIFICATION_PIPE (watch queues) shares O_EXCL's value.
constexpr int kNotificationPipe = O_EXCL;

SyscallResult DoPipe2(Task& t, uint64_t addr, int flags) {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | kNotificationPipe)) return Errno(EINVAL);
  // Watch queues are not built in: what Linux answers without
  // CONFIG_WATCH_QUEUE.
  if (flags & kNotificationPipe) return Errno(ENOPKG);
  Credentials c = t.creds();
  auto [r, w] = MakePipe(flags, c.fsuid, c.fsgid);
  bool cloexec = flags & O_CLOEXEC;
  int limit = static_cast<int>(std::min<uint64_t>(NofileLimit(t), INT_MAX));
  PAL_TRY(int rfd, t.fds().Add(r, cloexec, 0, limit));
  auto wfd = t.fds().Add(w, cloexec, 0, limit);
  if (!wfd.ok()) {
    (void)t.fds().Remove(rfd);
    return wfd.error();
  }
  int fds[2] = {rfd, *wfd};
  Errno e = t.CopyOut(addr, fds, sizeof(fds));
  if (!e.ok()) {
    // Linux installs the fds only after the copy succeeds; undo ours.
    (void)t.fds().Remove(rfd);
    (void)t.fds().Remove(*wfd);
    return e;
  }
  return int64_t(0);
}

}  // namespace

SyscallResult Pipe(Task& t, const SyscallArgs& a) { return DoPipe2(t, a[0].Ptr(), 0); }

SyscallResult Pipe2(Task& t, const SyscallArgs& a) { return DoPipe2(t, a[0].Ptr(), a[1].Int()); }

}  // namespace palisade::sys
