// PipeFile: an open end of a Pipe (read end, write end, or both for a FIFO
// opened O_RDWR), and the factories the syscall layer uses: MakePipe() for
// pipe(2)/pipe2(2), and the F_GETPIPE_SZ/F_SETPIPE_SZ entry points for
// fcntl(2). Named FIFOs are opened through FifoState (fifo.h).
//
//   PAL_TRY(auto ends, MakePipe(O_NONBLOCK));   // {read end, write end}
//   ends.second->Write(t, bytes);
//   ends.first->Read(t, buf);
//
// Reads and writes never block (EAGAIN; blocking_io.h sleeps on the pipe's
// queue). A blocking write(2) of more than PIPE_BUF bytes gets partial
// results back from Write() and must keep going until everything is
// written, as Linux does; BlockingIo() returns after the first partial
// transfer, so the write(2) layer loops (HandleIoResult's job).
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "base/errno.h"
#include "sentry/fsimpl/pipe/pipe.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/file_description.h"

namespace palisade {

class PipeFile final : public FileDescription {
 public:
  // Counts itself as an opener of the ends its access mode gives (through
  // Pipe::OpenEnds) and releases them when destroyed, i.e. at the last
  // close of this open file description. Waiters still registered through
  // this file are dropped from the pipe's queue then, because that queue
  // outlives the file (an epoll interest may never get to unregister).
  PipeFile(std::shared_ptr<Pipe> pipe, int flags, uid_t uid, gid_t gid);
  ~PipeFile() override;

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override;
  // On EPIPE also sends SIGPIPE to t (SendSigpipe), as Linux's pipe_write.
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override;
  ErrnoOr<struct stat> Stat(Task& t) override;
  // FIONREAD: bytes queued, as an int. Also F_GETPIPE_SZ and F_SETPIPE_SZ
  // (fcntl command numbers, argument by value), because fcntl(2) passes
  // them through Ioctl; ENOTTY for anything else.
  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override;
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override;
  void EventUnregister(Waiter* w) override;
  std::string DisplayName() const override;

  Pipe& pipe() { return *pipe_; }
  const Pipe::OpenSnapshot& open_snapshot() const { return snapshot_; }
  // A FIFO reader opened O_NONBLOCK with no writer yet: no POLLHUP until a
  // writer has come and gone (Linux's f_version = w_counter).
  void set_hup_version(uint64_t v) { hup_version_ = v; }

 private:
  std::shared_ptr<Pipe> pipe_;
  const bool reads_, writes_;
  Pipe::OpenSnapshot snapshot_;
  uint64_t hup_version_ = 0;
  const uid_t uid_;
  const gid_t gid_;
  std::mutex waiters_mu_;
  std::vector<Waiter*> waiters_;  // registered through this file; guarded by waiters_mu_
};

// pipe2(2): a read end (O_RDONLY) and a write end (O_WRONLY), both with
// flags' O_NONBLOCK and O_DIRECT (packet mode). flags are not validated
// here (sys_pipe.cc does). uid/gid: the creator's fsuid/fsgid for fstat.
std::pair<FileRef, FileRef> MakePipe(int flags, uid_t uid = 0, gid_t gid = 0);

// The pipe behind f, or nullptr if f is not a pipe or FIFO.
Pipe* PipeOf(FileDescription& f);

// fcntl(F_GETPIPE_SZ) / fcntl(F_SETPIPE_SZ, arg): EBADF if f is not a pipe
// (as Linux). privileged: the caller has CAP_SYS_RESOURCE. (sys_open.cc's
// fcntl currently goes through PipeFile::Ioctl instead; same results.)
ErrnoOr<int64_t> PipeGetSize(FileDescription& f);
ErrnoOr<int64_t> PipeSetSize(FileDescription& f, uint32_t size, bool privileged);

// fstat() of pipes: pipefs device, S_IFIFO | 0600 (as Linux's pipefs).
inline constexpr dev_t kPipeFsDev = (0u << 8) | 12u;  // 0:12, stable and fs-private

}  // namespace palisade
