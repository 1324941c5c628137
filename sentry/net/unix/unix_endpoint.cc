// UnixEndpoint lifetime, shutdown, readiness and accessors. Naming and
// connection setup are in unix_connect.cc, data transfer in
// unix_transfer.cc.
#include "sentry/net/unix/unix_endpoint.h"

#include <poll.h>

#include <algorithm>

namespace palisade::net {
namespace {

constexpr int kRcvShutdown = 1;
constexpr int kSendShutdown = 2;
constexpr int kShutdownMask = 3;
constexpr uint32_t kIn = POLLIN | POLLRDNORM;
constexpr uint32_t kOut = POLLOUT | POLLWRNORM | POLLWRBAND;

}  // namespace

std::mutex& UnixLock() {
  static std::mutex mu;
  return mu;
}

WaitQueue& UnixEndpoint::SpaceQueue() {
  static WaitQueue q;
  return q;
}

std::shared_ptr<UnixEndpoint> UnixEndpoint::Create(int type) {
  return std::shared_ptr<UnixEndpoint>(new UnixEndpoint(type));
}

UnixEndpoint::~UnixEndpoint() = default;

void UnixEndpoint::ConnectPair(const std::shared_ptr<UnixEndpoint>& a, const std::shared_ptr<UnixEndpoint>& b,
                               const struct ucred& ca, const struct ucred& cb) {
  std::lock_guard<std::mutex> l(UnixLock());
  a->peer_ = b;
  b->peer_ = a;
  a->state_ = b->state_ = State::kConnected;
  a->peercred_ = cb;
  b->peercred_ = ca;
  a->has_peercred_ = b->has_peercred_ = true;
}

void UnixEndpoint::ConsumedLocked(const UnixMessage& m) {
  if (auto s = m.sender.lock()) {
    s->inflight_ -= m.Charge();
    s->queue_.Notify(kOut);
  }
  SpaceQueue().Notify(kEventAll);
}

void UnixEndpoint::PurgeLocked(std::vector<UnixMessage>* dropped) {
  for (UnixMessage& m : rx_) {
    ConsumedLocked(m);
    RightsLeftQueueLocked(m.rights.size());
    dropped->push_back(std::move(m));
  }
  rx_.clear();
  rx_charge_ = 0;
}

void UnixEndpoint::Close() {
  std::vector<UnixMessage> dropped;
  std::vector<std::shared_ptr<UnixEndpoint>> embryos;
  {
    std::lock_guard<std::mutex> l(UnixLock());
    if (closed_) return;
    closed_ = true;
    DropNamesLocked();
    std::shared_ptr<UnixEndpoint> pair = std::move(peer_);
    peer_.reset();
    if (pair && connection_based()) {
      pair->shutdown_ = kShutdownMask;
      // Unread data thrown away (or a connection never accepted) is a
      // reset for the other side, as unix_release_sock() reports it.
      if (!rx_.empty() || embryo_) pair->error_ = ECONNRESET;
      pair->queue_.Notify(kEventAll);
    }
    state_ = State::kUnconnected;
    shutdown_ = kShutdownMask;
    PurgeLocked(&dropped);
    embryos.assign(backlog_.begin(), backlog_.end());
    backlog_.clear();
    queue_.Notify(kEventAll);
    SpaceQueue().Notify(kEventAll);
  }
  // Pending connections die with the listener; their clients see a reset.
  for (auto& e : embryos) e->Close();
  // dropped (and the files it carries) is destroyed here, unlocked.
}

Errno UnixEndpoint::Shutdown(int how) {
  if (how < SHUT_RD || how > SHUT_RDWR) return Errno(EINVAL);
  int mode = how + 1;  // SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN
  std::lock_guard<std::mutex> l(UnixLock());
  shutdown_ |= mode;
  queue_.Notify(kEventAll);
  if (peer_ && connection_based()) {
    int peer_mode = 0;
    if (mode & kRcvShutdown) peer_mode |= kSendShutdown;
    if (mode & kSendShutdown) peer_mode |= kRcvShutdown;
    peer_->shutdown_ |= peer_mode;
    peer_->queue_.Notify(kEventAll);
  }
  return Errno::Ok();
}

uint32_t UnixEndpoint::Readiness() {
  std::lock_guard<std::mutex> l(UnixLock());
  return ReadinessLocked();
}

uint32_t UnixEndpoint::ReadinessLocked() {
  uint32_t mask = 0;
  if (error_) mask |= POLLERR;
  if (shutdown_ == kShutdownMask) mask |= POLLHUP;
  if (shutdown_ & kRcvShutdown) mask |= POLLRDHUP | kIn;
  if (!rx_.empty() || !backlog_.empty()) mask |= kIn;
  if (connection_based() && state_ == State::kUnconnected) mask |= POLLHUP;  // TCP_CLOSE
  if (state_ == State::kListening) return mask;
  bool writable = inflight_ * 4 <= sndbuf_;
  if (writable && type_ != SOCK_STREAM && peer_ && peer_->peer_.get() != this &&
      static_cast<int>(peer_->rx_.size()) > kMaxDgramQlen) {
    writable = false;
  }
  if (writable) mask |= kOut;
  return mask;
}

UnixAddress UnixEndpoint::address() {
  std::lock_guard<std::mutex> l(UnixLock());
  return addr_;
}

ErrnoOr<UnixAddress> UnixEndpoint::PeerAddress() {
  std::lock_guard<std::mutex> l(UnixLock());
  if (!peer_) return Errno(ENOTCONN);
  return peer_->addr_;
}

struct ucred UnixEndpoint::PeerCreds() {
  std::lock_guard<std::mutex> l(UnixLock());
  if (!has_peercred_) return {0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
  return peercred_;
}

int UnixEndpoint::TakeError() {
  std::lock_guard<std::mutex> l(UnixLock());
  return std::exchange(error_, 0);
}

bool UnixEndpoint::listening() {
  std::lock_guard<std::mutex> l(UnixLock());
  return state_ == State::kListening;
}

int64_t UnixEndpoint::QueuedForRead() {
  std::lock_guard<std::mutex> l(UnixLock());
  if (state_ == State::kListening) return 0;
  if (type_ != SOCK_STREAM) return rx_.empty() ? 0 : static_cast<int64_t>(rx_.front().data.size());
  int64_t n = 0;
  for (const UnixMessage& m : rx_) n += static_cast<int64_t>(m.data.size() - m.off);
  return n;
}

int64_t UnixEndpoint::QueuedAtPeer() {
  std::lock_guard<std::mutex> l(UnixLock());
  if (!peer_) return 0;
  int64_t n = 0;
  for (const UnixMessage& m : peer_->rx_) {
    if (m.sender.lock().get() == this) n += static_cast<int64_t>(m.data.size() - m.off);
  }
  return n;
}

bool UnixEndpoint::passcred() {
  std::lock_guard<std::mutex> l(UnixLock());
  return passcred_;
}

void UnixEndpoint::set_passcred(bool v) {
  std::lock_guard<std::mutex> l(UnixLock());
  passcred_ = v;
}

int64_t UnixEndpoint::sndbuf() {
  std::lock_guard<std::mutex> l(UnixLock());
  return sndbuf_;
}

int64_t UnixEndpoint::rcvbuf() {
  std::lock_guard<std::mutex> l(UnixLock());
  return rcvbuf_;
}

void UnixEndpoint::set_sndbuf(int64_t v) {
  std::lock_guard<std::mutex> l(UnixLock());
  sndbuf_ = std::max(kMinSndBuf, std::min(v, kMaxSockBuf) * 2);
  queue_.Notify(kOut);
  SpaceQueue().Notify(kEventAll);
}

void UnixEndpoint::set_rcvbuf(int64_t v) {
  std::lock_guard<std::mutex> l(UnixLock());
  rcvbuf_ = std::max(kMinRcvBuf, std::min(v, kMaxSockBuf) * 2);
}

}  // namespace palisade::net
