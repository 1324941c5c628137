#include "sentry/fsimpl/gofer/client.h"

#include "gofer/proto/framing.h"
#include "spdlog/spdlog.h"

namespace palisade::gofer {
namespace {
constexpr size_t kCloseBatch = 32;
}  // namespace

Errno Client::FailLocked(Errno e, const char* what) {
  if (!dead_) {
    spdlog::error("gofer connection lost ({}: {}); file operations now fail with EIO", what, e.Name());
    dead_ = true;
  }
  return Errno(EIO);
}

ErrnoOr<proto::Response> Client::RoundTripLocked(const proto::Request& req, UniqueFd* donated) {
  if (dead_) return Errno(EIO);
  std::string bytes = req.SerializeAsString();
  if (Errno e = SendPacket(sock_.get(), bytes); !e.ok()) return FailLocked(e, "send");
  auto p = RecvPacket(sock_.get());
  if (!p.ok()) return FailLocked(p.error(), "receive");
  proto::Response resp;
  if (!resp.ParseFromString(p->data)) return FailLocked(Errno(EBADMSG), "malformed reply");
  if (resp.errno_value() != 0) {
    if (!resp.error().empty()) spdlog::debug("gofer: {}", resp.error());
    // An errno outside Linux's range is a confused server: EIO.
    int e = resp.errno_value();
    return Errno(e > 0 && e < 4096 ? e : EIO);
  }
  if (donated) *donated = std::move(p->fd);
  return resp;
}

ErrnoOr<proto::Response> Client::Call(proto::Request req, UniqueFd* donated) {
  req.set_version(proto::VERSION_CURRENT);
  std::lock_guard<std::mutex> l(mu_);
  ++calls_;
  if (to_close_.size() >= kCloseBatch && !dead_) {
    proto::Request close;
    close.set_version(proto::VERSION_CURRENT);
    for (uint64_t fid : to_close_) close.mutable_close()->add_fids(fid);
    to_close_.clear();
    (void)RoundTripLocked(close, nullptr);
  }
  return RoundTripLocked(req, donated);
}

void Client::Release(uint64_t fid) {
  std::lock_guard<std::mutex> l(mu_);
  if (!dead_) to_close_.push_back(fid);
}

}  // namespace palisade::gofer
