#include "gofer/proto/framing.h"

#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace palisade::gofer {

Errno SendPacket(int sock, std::string_view data, int fd) {
  if (data.size() > kMaxPacket) return Errno(EMSGSIZE);
  struct iovec iov {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<size_t>(n) == data.size() ? Errno::Ok() : Errno(EMSGSIZE);
    if (errno != EINTR) return Errno::FromHost();
  }
}

ErrnoOr<Packet> RecvPacket(int sock) {
  Packet p;
  p.data.resize(kMaxPacket);
  // Room for a few fds so a misbehaving peer's extras are received (and
  // closed) rather than silently leaked into our table.
  alignas(struct cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))] = {};
  struct iovec iov {p.data.data(), p.data.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  for (;;) {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno != EINTR) return Errno::FromHost();
  }
  std::vector<UniqueFd> fds;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if (n == 0 && fds.empty()) return Errno(ENOTCONN);
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || fds.size() > 1) return Errno(EMSGSIZE);
  p.data.resize(static_cast<size_t>(n));
  if (!fds.empty()) p.fd = std::move(fds[0]);
  return p;
}

ErrnoOr<std::pair<UniqueFd, UniqueFd>> NewSocketPair() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return Errno::FromHost();
  return std::make_pair(UniqueFd(sv[0]), UniqueFd(sv[1]));
}

}  // namespace palisade::gofer
