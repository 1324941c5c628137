// Terminals for containers with process.terminal: a new pty whose slave
// becomes the container's stdio and whose master goes to the caller over
// --console-socket (SCM_RIGHTS, with the pty's name as the payload, as
// runc's utils.SendFd does).
//
//   PAL_ASSIGN_OR_RETURN(Pty pty, OpenPty(size));
//   PAL_RETURN_IF_ERROR(SendConsole(console_socket, pty));
#pragma once

#include <termios.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "runsc/oci/spec.h"

namespace palisade::console {

struct Pty {
  int master = -1;
  int slave = -1;
  std::string name;  // /dev/pts/N
  void Close();
};

absl::StatusOr<Pty> OpenPty(const std::optional<oci::ConsoleSize>& size);

// Connects to the AF_UNIX socket at path and sends the master.
absl::Status SendConsole(const std::string& socket_path, const Pty& pty);

// Puts the caller's terminal settings back when a foreground `run` or
// `exec` ends. The sentry switches a tty it relays to raw mode and
// restores it itself (sentry/console_relay.h), but cannot if it is killed.
// Does nothing when fd is not a terminal.
class TerminalModeGuard {
 public:
  explicit TerminalModeGuard(int fd);
  ~TerminalModeGuard();
  TerminalModeGuard(const TerminalModeGuard&) = delete;
  TerminalModeGuard& operator=(const TerminalModeGuard&) = delete;

 private:
  int fd_;
  bool saved_ = false;
  struct termios mode_ {};
};

}  // namespace palisade::console
