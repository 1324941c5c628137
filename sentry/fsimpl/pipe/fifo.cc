#include "sentry/fsimpl/pipe/fifo.h"

#include <fcntl.h>

#include "sentry/fsimpl/pipe/pipe_file.h"
#include "sentry/kernel/task.h"

namespace palisade {
namespace {

// Sleeps until *counter (r_counter or w_counter, read through get) moves
// past seen: a partner opened, even if it has closed again since (Linux's
// wait_for_partner). ERESTARTSYS if a signal comes first.
template <typename Get>
Errno WaitForPartner(Task& t, Pipe& p, uint64_t seen, Get get) {
  Waiter& w = t.waiter();
  w.Clear();
  p.open_queue().Register(&w, kEventAll);
  Errno result = Errno::Ok();
  while (get(p) == seen) {
    Errno e = t.Block();
    if (e == Errno(EINTR)) {
      result = Errno(kERESTARTSYS);
      break;
    }
    w.Clear();
  }
  p.open_queue().Unregister(&w);
  return result;
}

}  // namespace

std::shared_ptr<Pipe> FifoState::GetOrCreatePipe() {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Pipe> p = pipe_.lock();
  if (!p) {
    p = std::make_shared<Pipe>();
    pipe_ = p;
  }
  return p;
}

std::shared_ptr<Pipe> FifoState::pipe() const {
  std::lock_guard<std::mutex> l(mu_);
  return pipe_.lock();
}

ErrnoOr<FileRef> FifoState::Open(Task* t, int flags) {
  // What F_GETFL shows: open-time-only flags are dropped, as Linux does.
  int file_flags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
  bool nonblock = flags & O_NONBLOCK;
  // Without a task to sleep on, a blocking open cannot wait.
  bool can_block = !nonblock && t != nullptr;
  std::shared_ptr<Pipe> p = GetOrCreatePipe();

  switch (flags & O_ACCMODE) {
    case O_RDONLY: {
      auto f = std::make_shared<PipeFile>(p, file_flags, 0, 0);
      const Pipe::OpenSnapshot& s = f->open_snapshot();
      if (s.writers == 0) {
        if (can_block) {
          // On failure f's destructor drops the reader count again.
          PAL_TRY_ERRNO(WaitForPartner(*t, *p, s.w_counter, [](Pipe& q) { return q.w_counter(); }));
        } else {
          f->set_hup_version(s.w_counter);  // no POLLHUP before a writer
        }
      }
      return FileRef(std::move(f));
    }
    case O_WRONLY: {
      if (!can_block && p->readers() == 0) return Errno(ENXIO);
      auto f = std::make_shared<PipeFile>(p, file_flags, 0, 0);
      const Pipe::OpenSnapshot& s = f->open_snapshot();
      if (s.readers == 0) {
        // The last reader may have left since the check above.
        if (!can_block) return Errno(ENXIO);
        PAL_TRY_ERRNO(WaitForPartner(*t, *p, s.r_counter, [](Pipe& q) { return q.r_counter(); }));
      }
      return FileRef(std::move(f));
    }
    case O_RDWR:
      // Both ends at once: never waits (POSIX leaves this undefined).
      return FileRef(std::make_shared<PipeFile>(p, file_flags, 0, 0));
    default:
      return Errno(EINVAL);  // access mode 3 (as Linux's fifo_open)
  }
}

}  // namespace palisade
