#include "sentry/control/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "sentry/control/wire.h"

namespace palisade::control {

absl::StatusOr<Response> Call(const std::string& socket_path, const Request& req,
                              std::span<const int> fds, absl::Duration timeout) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("control socket path too long: ", socket_path));
  }
  memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (sock < 0) return ErrnoStatus(errno, "socket");
  absl::Cleanup close_sock = [sock] { close(sock); };
  if (connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("sandbox is not running (", socket_path, ": ", strerror(errno), ")"));
  }
  if (timeout != absl::InfiniteDuration()) {
    struct timeval tv = absl::ToTimeval(timeout);
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  PAL_RETURN_IF_ERROR(SendMessage(sock, req, fds));
  Response resp;
  absl::Status s = RecvMessage(sock, resp);
  if (absl::IsUnavailable(s)) return absl::UnavailableError("sandbox is not running");
  PAL_RETURN_IF_ERROR(s);
  if (!resp.error().empty()) return absl::FailedPreconditionError(resp.error());
  return resp;
}

}  // namespace palisade::control
