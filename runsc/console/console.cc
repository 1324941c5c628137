#include "runsc/console/console.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace palisade::console {

TerminalModeGuard::TerminalModeGuard(int fd) : fd_(fd) {
  saved_ = isatty(fd) && tcgetattr(fd, &mode_) == 0;
}

TerminalModeGuard::~TerminalModeGuard() {
  if (saved_) tcsetattr(fd_, TCSANOW, &mode_);
}

void Pty::Close() {
  if (master >= 0) close(master);
  if (slave >= 0) close(slave);
  master = slave = -1;
}

absl::StatusOr<Pty> OpenPty(const std::optional<oci::ConsoleSize>& size) {
  Pty p;
  p.master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (p.master < 0) return ErrnoStatus(errno, "posix_openpt");
  char name[64];
  if (grantpt(p.master) != 0 || unlockpt(p.master) != 0 ||
      ptsname_r(p.master, name, sizeof(name)) != 0) {
    int e = errno;
    p.Close();
    return ErrnoStatus(e, "set up pty");
  }
  p.name = name;
  p.slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (p.slave < 0) {
    int e = errno;
    p.Close();
    return ErrnoStatus(e, "open", name);
  }
  if (size && size->width > 0 && size->height > 0) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    ioctl(p.master, TIOCSWINSZ, &ws);
  }
  return p;
}

absl::Status SendConsole(const std::string& socket_path, const Pty& pty) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("console socket path too long: ", socket_path));
  }
  memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return ErrnoStatus(errno, "socket");
  if (connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    close(sock);
    return ErrnoStatus(e, "connect to console socket", socket_path);
  }
  std::string payload = pty.name;
  struct iovec iov = {payload.data(), payload.size()};
  struct msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  mh.msg_control = control;
  mh.msg_controllen = sizeof(control);
  struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &pty.master, sizeof(int));
  ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  int e = errno;
  close(sock);
  if (n < 0) return ErrnoStatus(e, "send pty master to console socket", socket_path);
  return absl::OkStatus();
}

}  // namespace palisade::console
