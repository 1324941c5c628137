// The sentry's end of the gofer protocol: one connection (a SOCK_SEQPACKET
// socket to the gofer process) shared by every gofer-backed filesystem of
// the sandbox. Call() sends one request and waits for its reply; calls are
// serialized by a mutex, so replies always match their requests.
//
// When the gofer dies or the socket breaks, the error is logged once and
// every later call fails with EIO: the application sees EIO from file
// syscalls, the sentry keeps running and the container can exit cleanly.
//
//   auto client = std::make_shared<gofer::Client>(std::move(sock));
//   proto::Request req;
//   req.mutable_stat()->set_fid(fid);
//   PAL_TRY(proto::Response resp, client->Call(req));
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "base/errno.h"
#include "base/unique_fd.h"
#include "gofer/proto/gofer.pb.h"

namespace palisade::gofer {

class Client {
 public:
  explicit Client(UniqueFd sock) : sock_(std::move(sock)) {}

  // Sends req (the version is filled in) and returns the reply, or the
  // reply's errno. donated receives the fd the reply carries (Open).
  ErrnoOr<proto::Response> Call(proto::Request req, UniqueFd* donated = nullptr);

  // Releases a fid. Batched: sent with the next call once a few are queued
  // (never an RPC from a destructor's context).
  void Release(uint64_t fid);

  // Requests sent so far (tests: what a cache saved).
  uint64_t calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

  bool dead() const {
    std::lock_guard<std::mutex> l(mu_);
    return dead_;
  }

 private:
  ErrnoOr<proto::Response> RoundTripLocked(const proto::Request& req, UniqueFd* donated);
  Errno FailLocked(Errno e, const char* what);

  mutable std::mutex mu_;
  UniqueFd sock_;                    // guarded by mu_
  bool dead_ = false;                // guarded by mu_
  uint64_t calls_ = 0;               // guarded by mu_
  std::vector<uint64_t> to_close_;   // guarded by mu_
};

}  // namespace palisade::gofer
