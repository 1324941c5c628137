// The one place that owns the blocking, EINTR and restart rules for file
// I/O. FileDescriptions never block; BlockingIo() retries an operation
// that returned EAGAIN after sleeping on the file's readiness, unless the
// file is O_NONBLOCK. A signal that arrives before anything was transferred
// turns into ERESTARTSYS (restarted under SA_RESTART, else EINTR).
//
//   return BlockingIo(t, *f, POLLIN, [&] { return f->Read(t, buf); });
#pragma once

#include <poll.h>

#include "absl/functional/function_ref.h"
#include "base/errno.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file_description.h"

namespace palisade {

// events: POLLIN for reads, POLLOUT for writes. deadline: CLOCK_MONOTONIC
// ns or -1 (SO_RCVTIMEO-like callers pass one; ETIMEDOUT -> EAGAIN).
ErrnoOr<int64_t> BlockingIo(Task& t, FileDescription& f, uint32_t events,
                            absl::FunctionRef<ErrnoOr<int64_t>()> op, int64_t deadline_ns = -1);

}  // namespace palisade
