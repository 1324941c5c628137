// SignalFd: the file signalfd(2) returns. Reading it takes pending signals
// in its mask from the *reading* thread's queues (its own, then its
// process's), as struct signalfd_siginfo records, instead of delivering
// them to a handler. The file holds only the mask; which signals it sees
// depends on who reads, so after fork(2) the child reads its own signals
// through the inherited fd, as on Linux.
//
//   auto f = std::make_shared<SignalFd>(SigSet{SigSet::Bit(SIGUSR1)}, SFD_NONBLOCK);
//   uint8_t buf[sizeof(signalfd_siginfo)];
//   f->Read(t, buf);   // EAGAIN, or one record for a pending SIGUSR1
//
// Readiness (POLLIN) is likewise judged for the polling task
// (CurrentTask()). Sleepers wait on the reader's ThreadGroup::signalfd_queue,
// which the signal code notifies whenever it queues a signal; the file
// remembers which queue each waiter went on so EventUnregister finds it.
//
// Rules (signalfd(2)): reads need room for one record (EINVAL) and return
// as many whole records as fit and are pending; EAGAIN when none is.
// Writes: EINVAL. SIGKILL and SIGSTOP are silently left out of the mask.
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "sentry/kernel/signal_types.h"
#include "sentry/vfs/file_description.h"

namespace palisade {

class ThreadGroup;

class SignalFd final : public FileDescription {
 public:
  // flags: SFD_NONBLOCK (SFD_CLOEXEC is the fd table's).
  SignalFd(SigSet mask, int flags);
  ~SignalFd() override;

  SigSet mask() const;
  void set_mask(SigSet m);  // signalfd(fd, ...) on an existing one

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override { return Errno(EINVAL); }
  ErrnoOr<struct stat> Stat(Task& t) override;
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override;
  void EventUnregister(Waiter* w) override;
  std::string DisplayName() const override { return "anon_inode:[signalfd]"; }

 private:
  mutable std::mutex mu_;
  SigSet mask_;
  struct Registration {
    Waiter* waiter;
    std::weak_ptr<ThreadGroup> tg;
  };
  std::vector<Registration> regs_;  // guarded by mu_
};

}  // namespace palisade
