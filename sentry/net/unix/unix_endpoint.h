// UnixEndpoint: the state of one AF_UNIX socket (Linux's struct
// unix_sock), independent of the file that exposes it, because an
// accepted connection exists (in the listener's backlog) before accept(2)
// gives it a file. UnixSocketFile (unix_socket_file.h) wraps one.
//
//   auto a = UnixEndpoint::Create(SOCK_STREAM), b = UnixEndpoint::Create(SOCK_STREAM);
//   UnixEndpoint::ConnectPair(a, b, creds, creds);        // socketpair(2)
//   a->Send(req);  b->Recv(opts);                          // never block: EAGAIN
//
// Every operation is non-blocking: the socket layer (socket_wait.h)
// sleeps on queue() and retries. Readiness changes notify queue().
//
// Locking: one mutex for all unix sockets (UnixLock()), because most
// operations touch two endpoints (peer, listener) and a single lock has
// no ordering to get wrong. Files carried by SCM_RIGHTS are never
// destroyed under it (a socket's destructor takes it again): operations
// move them out and drop them after unlocking.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/errno.h"
#include "sentry/kernel/waiter.h"
#include "sentry/net/unix/unix_address.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/vfs.h"

namespace palisade::net {

std::mutex& UnixLock();

inline constexpr int kScmMaxFd = 253;                 // SCM_MAX_FD
inline constexpr int64_t kDefaultSockBuf = 212992;    // net.core.[rw]mem_default
inline constexpr int64_t kMaxSockBuf = 212992;        // net.core.[rw]mem_max (before doubling)
inline constexpr int64_t kMinSndBuf = 4608;           // SOCK_MIN_SNDBUF
inline constexpr int64_t kMinRcvBuf = 2304;           // SOCK_MIN_RCVBUF
inline constexpr int64_t kMsgOverhead = 512;          // per-datagram accounting (skb truesize)
inline constexpr int kMaxDgramQlen = 10;              // net.unix.max_dgram_qlen
inline constexpr int kSomaxconn = 4096;               // net.core.somaxconn

// One queued message: a datagram, a seqpacket record, or a stream
// segment (stream reads cross segments but stop at one carrying files).
struct UnixMessage {
  std::vector<uint8_t> data;
  size_t off = 0;  // bytes of data already read (stream)
  std::vector<FileRef> rights;
  struct ucred creds {};
  UnixAddress from;
  std::weak_ptr<class UnixEndpoint> sender;  // woken (POLLOUT) when consumed
  int64_t Charge() const { return static_cast<int64_t>(data.size()) + kMsgOverhead; }
};

struct UnixSendRequest {
  std::span<const uint8_t> data;
  std::vector<FileRef> rights;
  std::optional<struct ucred> creds;  // explicit SCM_CREDENTIALS
  struct ucred default_creds {};      // the sender's own (pid, ruid, rgid)
  // Destination for sendto: null for the connected peer.
  std::shared_ptr<UnixEndpoint> to;
  // Most files allowed in flight in all queues (RLIMIT_NOFILE): past it,
  // ETOOMANYREFS.
  int64_t inflight_limit = 1024;
};

struct UnixRecvResult {
  std::vector<uint8_t> data;
  int64_t full_len = 0;  // the record's real length (MSG_TRUNC)
  bool truncated = false;
  std::vector<FileRef> rights;
  std::optional<struct ucred> creds;  // only when SO_PASSCRED
  UnixAddress from;
};

class UnixEndpoint : public std::enable_shared_from_this<UnixEndpoint> {
 public:
  enum class State { kUnconnected, kListening, kConnected };

  // type: SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
  static std::shared_ptr<UnixEndpoint> Create(int type);
  // socketpair(2): connects a and b to each other; each sees the other's
  // creds as SO_PEERCRED.
  static void ConnectPair(const std::shared_ptr<UnixEndpoint>& a, const std::shared_ptr<UnixEndpoint>& b,
                          const struct ucred& ca, const struct ucred& cb);
  ~UnixEndpoint();

  // The last close: peers see EOF/EPIPE (ECONNRESET if unread data was
  // dropped), pending connections in the backlog are reset, names freed.
  void Close();

  // bind(2). addr unnamed = autobind. Pathnames create an S_IFSOCK node
  // through the VFS (EADDRINUSE if the path exists).
  Errno Bind(const vfs::PathContext& ctx, const UnixAddress& addr);
  // Autobinds if unbound (SO_PASSCRED senders and connectors need a name).
  void AutobindIfNeeded();
  Errno Listen(int backlog, const struct ucred& creds);
  // connect(2) of a stream/seqpacket socket to a listener. EAGAIN when the
  // backlog is full (the caller waits on target->queue()).
  Errno ConnectStream(const std::shared_ptr<UnixEndpoint>& target, const struct ucred& creds);
  // connect(2) of a datagram socket: sets (or, target null, clears) the
  // default destination.
  Errno ConnectDgram(const std::shared_ptr<UnixEndpoint>& target);
  // accept(2): the next pending connection, EAGAIN if none, EINVAL if not
  // listening.
  ErrnoOr<std::shared_ptr<UnixEndpoint>> Accept();

  // Queues data at the peer (or req.to). Stream: partial writes; others:
  // the whole record or EAGAIN. EPIPE (caller raises SIGPIPE), ENOTCONN,
  // ECONNREFUSED, EMSGSIZE, EPERM, ETOOMANYREFS as unix(7)/sendmsg(2).
  ErrnoOr<int64_t> Send(UnixSendRequest& req);
  // Takes (or with peek, copies) up to max bytes. Stream reads stop at a
  // segment carrying files. EAGAIN when nothing is there yet; 0 at EOF.
  // nonblock: the caller will not wait (datagram EOF rules differ).
  ErrnoOr<UnixRecvResult> Recv(size_t max, bool peek, bool nonblock);

  // shutdown(2): how = SHUT_RD/SHUT_WR/SHUT_RDWR.
  Errno Shutdown(int how);
  // poll(2) bits as unix_poll / unix_dgram_poll report them.
  uint32_t Readiness();

  // Accessors for getsockname/getpeername/getsockopt.
  int type() const { return type_; }
  UnixAddress address();
  ErrnoOr<UnixAddress> PeerAddress();  // ENOTCONN
  struct ucred PeerCreds();            // {0, -1, -1} without a peer
  int TakeError();                     // SO_ERROR: returns and clears
  bool listening();
  int64_t QueuedForRead();             // FIONREAD
  int64_t QueuedAtPeer();              // TIOCOUTQ: our bytes the peer has not read

  bool passcred();
  void set_passcred(bool v);
  int64_t sndbuf();
  int64_t rcvbuf();
  void set_sndbuf(int64_t v);
  void set_rcvbuf(int64_t v);

  WaitQueue& queue() { return queue_; }
  // Woken whenever any unix socket frees buffer space or a backlog slot:
  // blocked senders and connectors wait on it besides their own queue.
  static WaitQueue& SpaceQueue();

 private:
  explicit UnixEndpoint(int type) : type_(type) {}
  bool connection_based() const { return type_ != SOCK_DGRAM; }
  // All REQUIRE UnixLock() held.
  uint32_t ReadinessLocked();
  void AutobindLocked();
  void DropNamesLocked();
  // Moves everything queued into *dropped (destroyed by the caller after
  // unlocking).
  void PurgeLocked(std::vector<UnixMessage>* dropped);
  ErrnoOr<int64_t> SendStreamLocked(UnixSendRequest& req);
  ErrnoOr<int64_t> SendRecordLocked(UnixSendRequest& req);
  ErrnoOr<UnixRecvResult> RecvStreamLocked(size_t max, bool peek);
  ErrnoOr<UnixRecvResult> RecvRecordLocked(size_t max, bool peek, bool nonblock);
  UnixMessage NewMessageLocked(UnixSendRequest& req, std::span<const uint8_t> data);

  struct InodeKey {
    uint64_t fsid, dev, ino;
    auto operator<=>(const InodeKey&) const = default;
  };
  friend ErrnoOr<std::shared_ptr<UnixEndpoint>> LookupUnixEndpoint(const vfs::PathContext&, const UnixAddress&, int);
  void ConsumedLocked(const UnixMessage& m);  // sender accounting + wakeups
  // SCM_RIGHTS limits: files in flight and nesting depth (ETOOMANYREFS).
  Errno CheckRightsLocked(const UnixSendRequest& req, UnixEndpoint& receiver);
  static void RightsLeftQueueLocked(size_t n);
  int queue_level_ = 0;  // deepest socket nesting ever queued here; guarded by UnixLock()

  const int type_;
  std::optional<InodeKey> path_key_;  // guarded by UnixLock()
  int64_t inflight_ = 0;              // our bytes queued at receivers; guarded by UnixLock()
  // Everything below is guarded by UnixLock().
  State state_ = State::kUnconnected;
  bool closed_ = false;
  bool bound_ = false;
  bool embryo_ = false;  // made by connect(), not yet accept()ed
  UnixAddress addr_;
  std::shared_ptr<UnixEndpoint> peer_;
  int shutdown_ = 0;  // RCV_SHUTDOWN (1) | SEND_SHUTDOWN (2), as sk_shutdown
  int error_ = 0;     // sk_err
  std::deque<UnixMessage> rx_;
  int64_t rx_charge_ = 0;
  std::deque<std::shared_ptr<UnixEndpoint>> backlog_;
  int backlog_max_ = 0;
  bool passcred_ = false;
  bool has_peercred_ = false;
  struct ucred peercred_ {};
  struct ucred listen_creds_ {};
  int64_t sndbuf_ = kDefaultSockBuf;
  int64_t rcvbuf_ = kDefaultSockBuf;
  WaitQueue queue_;
};

// Finds the socket bound at addr for connect/sendto by a socket of the
// given type: abstract names in the sandbox-wide table of that type; pathnames by resolving the path (ENOENT,
// EACCES without write permission on the socket node, ECONNREFUSED if
// the node is not a bound socket).
ErrnoOr<std::shared_ptr<UnixEndpoint>> LookupUnixEndpoint(const vfs::PathContext& ctx, const UnixAddress& addr,
                                                          int type);

}  // namespace palisade::net
