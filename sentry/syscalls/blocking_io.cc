#include "sentry/syscalls/blocking_io.h"

namespace palisade {

ErrnoOr<int64_t> BlockingIo(Task& t, FileDescription& f, uint32_t events,
                            absl::FunctionRef<ErrnoOr<int64_t>()> op, int64_t deadline_ns) {
  ErrnoOr<int64_t> r = op();
  if (r.ok() || r.error() != Errno(EAGAIN) || f.nonblocking()) return r;
  // Register before re-checking so a wake between the check and Block()
  // is not lost (Waiter notifications are sticky).
  Waiter& w = t.waiter();
  w.Clear();
  f.EventRegister(&w, events | POLLERR | POLLHUP);
  int host_fd = f.HostFdForPoll();
  for (;;) {
    r = op();
    if (r.ok() || r.error() != Errno(EAGAIN)) break;
    Errno e = t.Block(deadline_ns, host_fd, static_cast<short>(events));
    if (e == Errno(EINTR)) {
      r = Errno(kERESTARTSYS);
      break;
    }
    if (e == Errno(ETIMEDOUT)) {
      r = Errno(EAGAIN);
      break;
    }
    w.Clear();
  }
  f.EventUnregister(&w);
  return r;
}

}  // namespace palisade
