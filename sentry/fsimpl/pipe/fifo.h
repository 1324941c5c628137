// FifoState: what a filesystem inode of type S_IFIFO owns so that opening
// it follows fifo(7). The pipe exists while someone has the FIFO open (or
// is waiting in open); when the last opener closes, queued bytes vanish
// and the next open starts a fresh pipe, as in Linux.
//
//   class TmpfsFifoInode : public Inode {
//     ErrnoOr<FileRef> Open(const OpenRequest& req) override {
//       return fifo_.Open(req.task, req.flags);
//     }
//     FifoState fifo_;
//   };
//
// Open rules (open(2), fifo(7)):
//   O_RDONLY             blocks until a writer opens (any writer open since
//                        ours counts, even if it closed again);
//   O_RDONLY|O_NONBLOCK  succeeds at once; no POLLHUP until a writer has
//                        come and gone;
//   O_WRONLY             blocks until a reader opens;
//   O_WRONLY|O_NONBLOCK  ENXIO if there is no reader;
//   O_RDWR               succeeds at once (both ends; Linux-specific).
// A blocked open is interruptible: ERESTARTSYS (restarted under
// SA_RESTART, else EINTR), as Linux's fifo_open.
// The VFS sets the file's path afterwards, so fstat() shows the inode and
// /proc/<pid>/fd its path. Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "base/errno.h"
#include "sentry/fsimpl/pipe/pipe.h"
#include "sentry/vfs/file_description.h"

namespace palisade {

class FifoState {
 public:
  // t: the opener; null for sentry-internal opens, which never block (a
  // blocking O_RDONLY open then behaves as O_NONBLOCK, and a blocking
  // O_WRONLY open without a reader fails with ENXIO). flags: open(2)
  // flags; the access mode picks the ends, O_NONBLOCK/O_DIRECT are kept.
  ErrnoOr<FileRef> Open(Task* t, int flags);

  // The current pipe, or null when nobody has the FIFO open.
  std::shared_ptr<Pipe> pipe() const;

 private:
  std::shared_ptr<Pipe> GetOrCreatePipe();

  mutable std::mutex mu_;
  // Weak: the open files (and blocked openers) keep the pipe alive.
  std::weak_ptr<Pipe> pipe_;
};

}  // namespace palisade
