// EpollInstance: the file epoll_create(2) returns: an interest list of
// (file, fd) pairs and a ready list, with Linux's level-triggered,
// EPOLLET and EPOLLONESHOT rules (epoll(7)).
//
//   PAL_TRY(auto ep, EpollInstance::Create(0));
//   ep->Add(pipe_read_end, /*fd=*/3, EPOLLIN | EPOLLET, /*data=*/42);
//   std::vector<epoll_event> out(8);
//   PAL_TRY(size_t n, ep->Wait(t, out, /*deadline_ns=*/-1));
//
// How readiness reaches the ready list. Each interest in a sentry-side file
// has its own Waiter registered on the file (EventRegister), so a wake-up
// says exactly which interest it is for, as Linux's ep_poll_callback does;
// that is what makes EPOLLET report once per new event. A Waiter is a host
// eventfd, and all of an instance's Waiters sit (edge-triggered) in one
// host epoll, host_ep_: draining it names the interests that were woken,
// and blocking on it (Task::Block's host fd) sleeps until any is.
// Files with a host fd (HostFdForPoll() >= 0) put that fd in host_ep_
// instead. The ready list then works as Linux's rdllist: woken interests
// go on it; Collect() re-checks each file's Readiness, drops the ones not
// ready, reports the rest, keeps level-triggered ones listed, and
// disables EPOLLONESHOT ones until EPOLL_CTL_MOD.
//
// Interests do not keep files alive (a weak reference; Linux keys them by
// (file, fd) and drops them when the file is finally released). A file
// that dies is dropped lazily, when a scan meets it or when the list has
// doubled since the last sweep. Contract with file implementations: a
// file whose WaitQueue outlives it (e.g. a pipe end, whose queue is the
// pipe's) must unregister the waiters registered through it in its
// destructor, as PipeFile does.
//
// Cost: one host fd (eventfd) per interest in a sentry-side file, taken
// from a process-wide pool whose size is capped by half the sentry's
// RLIMIT_NOFILE (ENOSPC past it, as max_user_watches). Waiters are
// recycled, never freed: a dying file may still point at one for a moment.
//
// Lock order: EpollInstance::mu_, then a target file's locks (Readiness,
// EventRegister). Nested instances lock outer before inner; the host epoll
// rejects cycles (ELOOP) before any can form.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/vfs/file_description.h"

namespace palisade {

class EpollInstance final : public FileDescription {
 public:
  // flags: O_CLOEXEC is the fd table's concern; the file is O_RDWR.
  // EMFILE/ENFILE/ENOMEM if the host epoll cannot be made.
  static ErrnoOr<std::shared_ptr<EpollInstance>> Create(int flags);
  ~EpollInstance() override;

  // EPOLL_CTL_ADD/MOD/DEL for `file` open as `fd`. events: EPOLL* bits as
  // the app gave them (EPOLLERR|EPOLLHUP are always added). The syscall
  // layer has checked: file is pollable (EPERM), not this instance
  // (EINVAL), EPOLLEXCLUSIVE rules. Errors: EEXIST, ENOENT, ENOSPC,
  // ELOOP (a cycle of instances), EINVAL (MOD of an EPOLLEXCLUSIVE one).
  Errno Add(const FileRef& file, int fd, uint32_t events, uint64_t data);
  Errno Modify(const FileRef& file, int fd, uint32_t events, uint64_t data);
  Errno Delete(const FileRef& file, int fd);

  // Moves up to out.size() ready events into out without sleeping.
  size_t Collect(std::span<struct epoll_event> out);
  // epoll_wait(2): Collect, sleeping until something is ready, the
  // deadline (CLOCK_MONOTONIC ns; -1 = none, 0 or past = don't sleep)
  // passes (returns 0), or a signal arrives (EINTR: epoll_wait is never
  // restarted, whatever SA_RESTART says).
  ErrnoOr<size_t> Wait(Task& t, std::span<struct epoll_event> out, int64_t deadline_ns);

  // The instance itself is pollable: POLLIN while an event is ready.
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override;
  void EventUnregister(Waiter* w) override;
  int HostFdForPoll() const override { return host_ep_.get(); }
  ErrnoOr<struct stat> Stat(Task& t) override;
  std::string DisplayName() const override { return "anon_inode:[eventpoll]"; }

  size_t interest_count() const;

 private:
  struct Interest;
  using Key = std::pair<const FileDescription*, int>;
  // Interests sharing one host fd (the same host-backed file under two fd
  // numbers) share its registration in host_ep_, with the union of masks.
  struct HostReg {
    std::vector<Interest*> users;
    uint32_t events = 0;
  };

  EpollInstance(int flags, UniqueFd host_ep);

  // All REQUIRE mu_ held.
  void DrainLocked();
  void MarkLocked(Interest* it, bool& listed_any);
  void UnlistLocked(Interest* it);
  Errno RegisterHostLocked(Interest* it);
  void UnregisterHostLocked(Interest* it);
  // Unregisters (if the file lives) and frees an interest.
  void RemoveLocked(Interest* it, const FileRef& live_file);
  void MaybeSweepLocked();
  // The interest for (file, fd) if it is still for that live file; a stale
  // one under the same key (its file died and the address was reused) is
  // removed on the way.
  Interest* FindLocked(const FileRef& file, int fd);

  const UniqueFd host_ep_;
  WaitQueue queue_;  // epoll_wait sleepers and pollers of this instance
  mutable std::mutex mu_;
  std::map<Key, std::unique_ptr<Interest>> interests_;
  std::unordered_map<uint64_t, Interest*> by_id_;
  std::unordered_map<int, HostReg> host_regs_;
  std::list<Interest*> ready_;
  uint64_t next_id_ = 1;
  size_t sweep_at_ = 64;
};

}  // namespace palisade
