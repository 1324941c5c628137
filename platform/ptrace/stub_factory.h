// StubFactory: a small host process, forked from the sentry early (before
// it has threads, a big heap, host fds it cares about, or its own seccomp
// filter), whose only job is to fork stub processes on request. Both
// platforms get their stubs from it, so a stub inherits the factory's tiny
// state rather than the sentry's memory, fds and seccomp filter (which
// would kill a systrap stub instead of trapping: docs/security.md).
//
// The factory is a child of the sentry and every stub a child of the
// factory, so the sentry is an ancestor of every stub: the task thread
// that will drive a stub PTRACE_SEIZEs it (allowed for the same uid, and
// under Yama ptrace_scope 1 because the tracer is an ancestor). Why not
// PTRACE_TRACEME in the stub: that would make the factory the tracer.
//
// Protocol (SOCK_SEQPACKET socketpair, one request at a time): the sentry
// sends the MemoryFile fd (and optionally a second fd) by SCM_RIGHTS; the
// factory forks, the child puts them at StubProcess::kMemFd/kSharedFd,
// closes every other fd and waits in pause() with every signal blocked; the
// factory answers with the child's pid and a pidfd for it. The sentry then
// seizes it (StubProcess::Spawn).
//
// Confinement: the factory closes every fd but its socket, resets signal
// handlers, and installs a seccomp filter (factory_filter.h) of the few
// calls it, a stub being born, and a running stub make; stubs inherit it
// as a second wall. It exits when the sentry's end of the socket closes.
//
//   PAL_ASSIGN_OR_RETURN(StubFactory* f, StubFactory::Get());
//   PAL_ASSIGN_OR_RETURN(StubFactory::NewStub s, f->Create(memfd, -1));
#pragma once

#include <sys/types.h>

#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace palisade::platform {

class StubFactory {
 public:
  // Starts the process-wide factory if it is not running yet. Call it as
  // early as possible (BootMain does, before anything else): the factory's
  // memory image is the sentry's at this moment. Also maps the stub page
  // first, so that every stub has it.
  static absl::Status Start();
  // The factory, started on first use if Start() was not called.
  static absl::StatusOr<StubFactory*> Get();

  struct NewStub {
    pid_t pid = -1;
    UniqueFd pidfd;
  };
  // Forks a stub holding memfd (as kMemFd) and, if >= 0, shared_fd (as
  // kSharedFd), waiting in pause() with every signal blocked. Thread-safe
  // (requests are serialized).
  absl::StatusOr<NewStub> Create(int memfd, int shared_fd);

  pid_t pid() const { return pid_; }

 private:
  StubFactory(pid_t pid, UniqueFd sock) : pid_(pid), sock_(std::move(sock)) {}

  const pid_t pid_;
  std::mutex mu_;  // one request and its reply at a time
  UniqueFd sock_;
};

}  // namespace palisade::platform
