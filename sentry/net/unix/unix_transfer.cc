// Data transfer on unix sockets: Send and Recv for streams (partial
// writes, reads that cross segments but stop at one carrying files) and
// for records (datagram and seqpacket: whole or nothing, MSG_TRUNC),
// following unix_stream_sendmsg/unix_dgram_sendmsg and their recvmsg
// counterparts.
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "sentry/net/unix/unix_endpoint.h"
#include "sentry/net/unix/unix_socket_file.h"

namespace palisade::net {
namespace {

constexpr int kRcvShutdown = 1;
constexpr int kSendShutdown = 2;
// How deep sockets may nest in queues (a socket queued on a socket queued
// on a socket ...). Linux 6.x has no such limit; the sentry needs one
// because destroying a chain recurses through it. Deep enough that no
// real program meets it.
constexpr int kMaxRecursionLevel = 64;

// Files sitting in unix socket queues, sandbox-wide, limited by the
// sender's RLIMIT_NOFILE (Linux counts them per user, and lets
// CAP_SYS_RESOURCE past). Guarded by UnixLock().
int64_t in_flight_files = 0;

}  // namespace

Errno UnixEndpoint::CheckRightsLocked(const UnixSendRequest& req, UnixEndpoint& receiver) {
  if (req.rights.empty()) return Errno::Ok();
  if (in_flight_files + static_cast<int64_t>(req.rights.size()) > req.inflight_limit) return Errno(ETOOMANYREFS);
  int level = 0;
  for (const FileRef& f : req.rights) {
    if (auto* s = dynamic_cast<UnixSocketFile*>(f.get())) level = std::max(level, s->endpoint().queue_level_ + 1);
  }
  if (level > kMaxRecursionLevel) return Errno(ETOOMANYREFS);
  receiver.queue_level_ = std::max(receiver.queue_level_, level);
  return Errno::Ok();
}

void UnixEndpoint::RightsLeftQueueLocked(size_t n) { in_flight_files -= static_cast<int64_t>(n); }

UnixMessage UnixEndpoint::NewMessageLocked(UnixSendRequest& req, std::span<const uint8_t> data) {
  UnixMessage m;
  m.data.assign(data.begin(), data.end());
  m.rights = std::move(req.rights);
  req.rights.clear();
  in_flight_files += static_cast<int64_t>(m.rights.size());
  m.creds = req.creds ? *req.creds : req.default_creds;
  m.from = addr_;
  m.sender = weak_from_this();
  inflight_ += m.Charge();
  return m;
}

ErrnoOr<int64_t> UnixEndpoint::Send(UnixSendRequest& req) {
  std::lock_guard<std::mutex> l(UnixLock());
  if (type_ == SOCK_STREAM) return SendStreamLocked(req);
  return SendRecordLocked(req);
}

ErrnoOr<int64_t> UnixEndpoint::SendStreamLocked(UnixSendRequest& req) {
  if (req.to) return Errno(state_ == State::kConnected ? EISCONN : EOPNOTSUPP);
  if (!peer_) return Errno(ENOTCONN);
  if (shutdown_ & kSendShutdown) return Errno(EPIPE);
  if (req.data.empty()) return int64_t{0};
  UnixEndpoint& other = *peer_;
  if (other.closed_ || (other.shutdown_ & kRcvShutdown)) return Errno(EPIPE);
  if (inflight_ >= sndbuf_) return Errno(EAGAIN);
  PAL_TRY_ERRNO(CheckRightsLocked(req, other));
  size_t n = std::min<int64_t>(static_cast<int64_t>(req.data.size()), sndbuf_ - inflight_);
  UnixMessage m = NewMessageLocked(req, req.data.first(n));
  other.rx_charge_ += m.Charge();
  other.rx_.push_back(std::move(m));
  other.queue_.Notify(POLLIN | POLLRDNORM);
  return static_cast<int64_t>(n);
}

ErrnoOr<int64_t> UnixEndpoint::SendRecordLocked(UnixSendRequest& req) {
  std::shared_ptr<UnixEndpoint> other = req.to;
  if (type_ == SOCK_SEQPACKET) {
    if (error_) return Errno(std::exchange(error_, 0));
    if (state_ != State::kConnected) return Errno(ENOTCONN);
    other = nullptr;  // seqpacket ignores a destination address
  }
  if (!other) {
    if (!peer_) return Errno(ENOTCONN);
    other = peer_;
  }
  if (static_cast<int64_t>(req.data.size()) > sndbuf_ - 32) return Errno(EMSGSIZE);
  if (shutdown_ & kSendShutdown) return Errno(EPIPE);
  if (passcred_) AutobindLocked();
  if (other->closed_) {
    if (peer_ == other) {
      if (type_ == SOCK_SEQPACKET) return Errno(EPIPE);
      peer_.reset();  // a dead default destination is forgotten
      state_ = State::kUnconnected;
    }
    return Errno(ECONNREFUSED);
  }
  if (other->type_ != type_) return Errno(EPROTOTYPE);
  if (other->peer_ && other->peer_.get() != this) return Errno(EPERM);  // unix_may_send
  if (other->shutdown_ & kRcvShutdown) return Errno(EPIPE);
  if (other.get() != this && other->peer_.get() != this &&
      static_cast<int>(other->rx_.size()) > kMaxDgramQlen) {
    return Errno(EAGAIN);
  }
  if (inflight_ >= sndbuf_) return Errno(EAGAIN);
  PAL_TRY_ERRNO(CheckRightsLocked(req, *other));
  UnixMessage m = NewMessageLocked(req, req.data);
  other->rx_charge_ += m.Charge();
  other->rx_.push_back(std::move(m));
  other->queue_.Notify(POLLIN | POLLRDNORM);
  return static_cast<int64_t>(req.data.size());
}

ErrnoOr<UnixRecvResult> UnixEndpoint::Recv(size_t max, bool peek, bool nonblock) {
  ErrnoOr<UnixRecvResult> r = Errno(EAGAIN);
  {
    std::lock_guard<std::mutex> l(UnixLock());
    r = type_ == SOCK_STREAM ? RecvStreamLocked(max, peek) : RecvRecordLocked(max, peek, nonblock);
  }
  return r;
}

ErrnoOr<UnixRecvResult> UnixEndpoint::RecvStreamLocked(size_t max, bool peek) {
  if (state_ != State::kConnected) return Errno(EINVAL);
  if (rx_.empty()) {
    if (error_) return Errno(std::exchange(error_, 0));
    if (shutdown_ & kRcvShutdown) return UnixRecvResult{};
    return Errno(EAGAIN);
  }
  UnixRecvResult out;
  out.from = rx_.front().from;
  if (passcred_) out.creds = rx_.front().creds;
  size_t i = 0;
  while (i < rx_.size()) {
    UnixMessage& m = rx_[i];
    // With SO_PASSCRED, data from different senders is never glued.
    if (out.creds && i > 0 &&
        (m.creds.pid != out.creds->pid || m.creds.uid != out.creds->uid || m.creds.gid != out.creds->gid)) {
      break;
    }
    if (out.data.size() >= max && !(out.data.empty() && max == 0)) break;
    size_t n = std::min(m.data.size() - m.off, max - out.data.size());
    out.data.insert(out.data.end(), m.data.begin() + m.off, m.data.begin() + m.off + n);
    bool has_rights = !m.rights.empty();
    if (peek) {
      out.rights.insert(out.rights.end(), m.rights.begin(), m.rights.end());
      if (has_rights) break;
      i++;
      if (max == 0) break;
      continue;
    }
    m.off += n;
    if (has_rights) {
      RightsLeftQueueLocked(m.rights.size());
      out.rights = std::move(m.rights);
      m.rights.clear();
    }
    if (m.off < m.data.size()) break;
    rx_charge_ -= m.Charge();
    ConsumedLocked(m);
    rx_.erase(rx_.begin() + i);
    if (has_rights || max == 0) break;
  }
  out.full_len = static_cast<int64_t>(out.data.size());
  return out;
}

ErrnoOr<UnixRecvResult> UnixEndpoint::RecvRecordLocked(size_t max, bool peek, bool nonblock) {
  if (type_ == SOCK_SEQPACKET && state_ != State::kConnected) return Errno(ENOTCONN);
  if (rx_.empty()) {
    if (error_) return Errno(std::exchange(error_, 0));
    if (shutdown_ & kRcvShutdown) {
      // unix_dgram_recvmsg: EOF for seqpacket; a datagram socket only
      // reports it to a reader that would have waited.
      if (type_ == SOCK_SEQPACKET || !nonblock) return UnixRecvResult{};
    }
    return Errno(EAGAIN);
  }
  UnixMessage& m = rx_.front();
  UnixRecvResult out;
  out.from = m.from;
  if (passcred_) out.creds = m.creds;
  size_t n = std::min(max, m.data.size());
  out.data.assign(m.data.begin(), m.data.begin() + n);
  out.full_len = static_cast<int64_t>(m.data.size());
  out.truncated = n < m.data.size();
  if (peek) {
    out.rights = m.rights;
    return out;
  }
  RightsLeftQueueLocked(m.rights.size());
  out.rights = std::move(m.rights);
  rx_charge_ -= m.Charge();
  ConsumedLocked(m);
  rx_.pop_front();
  return out;
}

}  // namespace palisade::net
