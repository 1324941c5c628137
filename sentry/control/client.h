// The front end's side of the control socket: connects to a sandbox's
// <state dir>/control.sock, sends one request and returns the response.
// A sandbox that is gone gives UnavailableError; a response carrying an
// error gives that message as FailedPrecondition.
//
//   control::Request req;
//   req.mutable_signal()->set_signo(SIGTERM);
//   PAL_ASSIGN_OR_RETURN(control::Response r, control::Call(sock, req));
#pragma once

#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sentry/control/control.pb.h"

namespace palisade::control {

// timeout: how long to wait for the response (absl::InfiniteDuration()
// for Wait requests).
absl::StatusOr<Response> Call(const std::string& socket_path, const Request& req,
                              std::span<const int> fds = {},
                              absl::Duration timeout = absl::Seconds(30));

}  // namespace palisade::control
