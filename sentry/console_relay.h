// ConsoleRelay: the terminal of a container process started with
// process.terminal (or `exec --tty`). The process gets a pty of the
// sandbox's own devpts (sentry/fsimpl/devpts) as fds 0-2 and controlling
// terminal; a sentry thread pumps bytes between that pty's master and the
// host tty the front end handed over (the replica end of the pty whose
// master went to --console-socket, or the caller's own terminal).
//
// Why not give the application the host tty itself (as host_stdio.h does
// for pipes and files): it would be a host device inside the sandbox, so
// ttyname(), /proc/self/fd/0 and fstat would not match anything under
// /dev/pts (busybox `tty` said "not a tty"), and job control (^C as SIGINT,
// TIOCSPGRP, SIGTTOU, SIGHUP on hang-up) would be the host's line
// discipline acting on host processes. Here the sandbox's line discipline
// does all of that; the host tty is switched to raw mode so it passes bytes
// unchanged, and its settings are restored when the relay ends.
//
// Window size: copied from the host tty at start and re-read every
// kWindowPollMs. The sentry is not in the host tty's session, so it gets
// no SIGWINCH; a change reaches the sandbox's foreground group as SIGWINCH
// within that interval.
//
// Ends when every replica file in the sandbox has closed (after draining
// what the application wrote), when the host side hangs up (the caller
// closed the console: the sandbox session gets SIGHUP, as on Linux), or
// when the owner destroys it (drains, then stops).
//
//   PAL_ASSIGN_OR_RETURN(auto relay, ConsoleRelay::Attach(init, /*host_tty=*/0));
//   ... run the sandbox ...
//   relay.reset();  // flushes the last output to the host tty
#pragma once

#include <memory>
#include <thread>

#include "absl/status/statusor.h"

namespace palisade {

class Task;
class Terminal;

class ConsoleRelay {
 public:
  static constexpr int kWindowPollMs = 200;

  // Opens a sandbox pty, makes it t's fds 0-2 and (t being a session
  // leader without one) its controlling terminal, and starts pumping
  // between it and host_tty (dup'ed; the caller keeps its fd).
  static absl::StatusOr<std::unique_ptr<ConsoleRelay>> Attach(Task& t, int host_tty);

  // Drains the application's pending output to the host, then stops.
  ~ConsoleRelay();

  // Lets the relay run on its own after the owner is gone (exec'd
  // processes: it ends with their terminal).
  static void Detach(std::unique_ptr<ConsoleRelay> relay);

  ConsoleRelay(const ConsoleRelay&) = delete;
  ConsoleRelay& operator=(const ConsoleRelay&) = delete;

 private:
  struct State;
  explicit ConsoleRelay(std::shared_ptr<State> s);
  static void Run(std::shared_ptr<State> s);

  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace palisade
