#include "sentry/control/wire.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace palisade::control {

absl::Status SendMessage(int sock, const google::protobuf::MessageLite& msg,
                         std::span<const int> fds) {
  std::string data;
  if (!msg.SerializeToString(&data)) return absl::InternalError("cannot serialize control message");
  if (data.size() > kMaxMessageBytes) return absl::InvalidArgumentError("control message too large");
  if (fds.size() > kMaxFds) return absl::InvalidArgumentError("too many fds in a control message");
  if (data.empty()) data.push_back('\0');  // an empty datagram would read as EOF
  struct iovec iov = {data.data(), data.size()};
  struct msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  if (!fds.empty()) {
    mh.msg_control = control;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus(errno, "send control message");
  return absl::OkStatus();
}

absl::Status RecvMessage(int sock, google::protobuf::MessageLite& msg, std::vector<int>* fds) {
  std::string data(kMaxMessageBytes, '\0');
  struct iovec iov = {data.data(), data.size()};
  struct msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  mh.msg_control = control;
  mh.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return absl::DeadlineExceededError("timed out waiting for the sandbox");
    return ErrnoStatus(errno, "receive control message");
  }
  std::vector<int> got;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      got.push_back(fd);
    }
  }
  if (fds) {
    *fds = std::move(got);
  } else {
    for (int fd : got) close(fd);
  }
  if (n == 0) return absl::UnavailableError("the sandbox closed the control connection");
  if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    return absl::InvalidArgumentError("truncated control message");
  }
  data.resize(static_cast<size_t>(n));
  if (data == std::string(1, '\0')) data.clear();
  if (!msg.ParseFromString(data)) return absl::InvalidArgumentError("malformed control message");
  return absl::OkStatus();
}

}  // namespace palisade::control
