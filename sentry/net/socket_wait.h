// SocketWait: the blocking rule of socket calls (send, recv, accept,
// connect). Like BlockingIo (sentry/syscalls/blocking_io.h), but the
// caller decides whether to wait (MSG_DONTWAIT as well as O_NONBLOCK) and
// may give a timeout (SO_RCVTIMEO/SO_SNDTIMEO): when it passes the call
// fails with EAGAIN, and a signal then gives EINTR instead of a restart,
// as Linux's sock_intr_errno() does.
//
//   Errno e = SocketWait(t, *f, POLLIN, nonblock, timeout_ns, [&] { return TryRecv(); });
#pragma once

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "base/errno.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file_description.h"

namespace palisade::net {

// op returns EAGAIN when it would block; anything else ends the wait.
// timeout_ns <= 0: no timeout.
Errno SocketWait(Task& t, FileDescription& f, uint32_t events, bool nonblock, int64_t timeout_ns,
                 absl::FunctionRef<Errno()> op);

}  // namespace palisade::net
