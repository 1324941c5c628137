// Framing of the gofer protocol on a SOCK_SEQPACKET socket: one serialized
// Protobuf message per packet, optionally with one host fd attached as
// SCM_RIGHTS. Seqpacket keeps message boundaries, so there is no length
// prefix to get wrong; an oversized or truncated packet is an error
// (EMSGSIZE), never a partial message.
//
//   PAL_TRY_ERRNO(SendPacket(sock, bytes, fd));
//   PAL_TRY(Packet p, RecvPacket(sock));   // p.fd holds a donated fd, if any
//
// Transport errors are Errnos: EPIPE/ECONNRESET when the peer is gone,
// and ENOTCONN for an orderly EOF (a zero-length read).
#pragma once

#include <string>
#include <string_view>

#include "base/errno.h"
#include "base/unique_fd.h"

namespace palisade::gofer {

// Largest packet either side sends or accepts. Replies are kept under it
// by the server (ReadDir stops early), requests are tiny.
inline constexpr size_t kMaxPacket = 256 * 1024;

struct Packet {
  std::string data;
  UniqueFd fd;  // donated fd (close-on-exec), or invalid
};

// Sends `data` as one packet, with `fd` (if >= 0) as SCM_RIGHTS.
// EINTR is retried; MSG_NOSIGNAL, so a dead peer is EPIPE, not SIGPIPE.
Errno SendPacket(int sock, std::string_view data, int fd = -1);

// Receives one packet. More than one fd, or a truncated packet or control
// message, is EMSGSIZE (and any fds received are closed).
ErrnoOr<Packet> RecvPacket(int sock);

// A connected SOCK_SEQPACKET|SOCK_CLOEXEC pair: [0] for the client
// (sentry), [1] for the server (gofer).
ErrnoOr<std::pair<UniqueFd, UniqueFd>> NewSocketPair();

}  // namespace palisade::gofer
