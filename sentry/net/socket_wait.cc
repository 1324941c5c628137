#include "sentry/net/socket_wait.h"

#include <poll.h>
#include <time.h>

namespace palisade::net {

Errno SocketWait(Task& t, FileDescription& f, uint32_t events, bool nonblock, int64_t timeout_ns,
                 absl::FunctionRef<Errno()> op) {
  Errno r = op();
  if (r != Errno(EAGAIN) || nonblock) return r;
  int64_t deadline = -1;
  if (timeout_ns > 0) {
    struct timespec now {};
    clock_gettime(CLOCK_MONOTONIC, &now);
    deadline = now.tv_sec * 1000000000ll + now.tv_nsec + timeout_ns;
  }
  // Register before re-checking: Waiter notifications are sticky, so a
  // wake between the check and Block() is not lost.
  Waiter& w = t.waiter();
  w.Clear();
  f.EventRegister(&w, events | POLLERR | POLLHUP);
  for (;;) {
    r = op();
    if (r != Errno(EAGAIN)) break;
    Errno e = t.Block(deadline);
    if (e == Errno(EINTR)) {
      r = Errno(deadline < 0 ? kERESTARTSYS : EINTR);
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

}  // namespace palisade::net
