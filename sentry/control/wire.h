// Framing of the control protocol: one serialized Protobuf message per
// SOCK_SEQPACKET datagram, optionally with file descriptors (SCM_RIGHTS).
//
//   PAL_RETURN_IF_ERROR(SendMessage(fd, request, {0, 1, 2}));
//   PAL_RETURN_IF_ERROR(RecvMessage(fd, response, &fds));
#pragma once

#include <span>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"

namespace palisade::control {

// Largest message either side accepts; an exec request with a big
// environment fits easily.
inline constexpr size_t kMaxMessageBytes = 1 << 20;
inline constexpr size_t kMaxFds = 8;

absl::Status SendMessage(int sock, const google::protobuf::MessageLite& msg,
                         std::span<const int> fds = {});

// Receives one message. Received fds are close-on-exec and owned by the
// caller. A peer that closed the connection gives UnavailableError.
absl::Status RecvMessage(int sock, google::protobuf::MessageLite& msg,
                         std::vector<int>* fds = nullptr);

}  // namespace palisade::control
