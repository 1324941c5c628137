// UnixSocketFile: the open file of an AF_UNIX socket (socket(2),
// socketpair(2), accept(2)). It owns one UnixEndpoint and closes it at the
// last close of the file. read(2)/write(2) are recv/send without flags;
// the socket syscalls (sentry/syscalls/sys_socket*.cc) use endpoint() and
// the option store directly. fstat shows S_IFSOCK | 0777 on sockfs, and
// /proc/<pid>/fd shows "socket:[ino]".
//
//   auto f = MakeUnixSocketFile(UnixEndpoint::Create(SOCK_STREAM), O_NONBLOCK, t);
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <vector>

#include "sentry/net/unix/unix_endpoint.h"
#include "sentry/vfs/file_description.h"

namespace palisade::net {

// Options kept for getsockopt that do not change unix socket behaviour
// (SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER ...) or that the socket layer
// applies (timeouts). Guarded by the file's mutex.
struct SocketOptions {
  int reuseaddr = 0, reuseport = 0, keepalive = 0, broadcast = 0, oobinline = 0, dontroute = 0;
  int rcvlowat = 1, priority = 0, passsec = 0;
  struct linger linger {};
  int64_t rcvtimeo_ns = 0, sndtimeo_ns = 0;  // 0: none
};

class UnixSocketFile final : public FileDescription {
 public:
  UnixSocketFile(std::shared_ptr<UnixEndpoint> ep, int flags, uid_t uid, gid_t gid);
  ~UnixSocketFile() override;

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override;
  // On EPIPE a stream socket also sends SIGPIPE (write(2) has no MSG_NOSIGNAL).
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override;
  ErrnoOr<struct stat> Stat(Task& t) override;
  // FIONREAD/SIOCINQ and TIOCOUTQ/SIOCOUTQ.
  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override;
  uint32_t Readiness(uint32_t mask) override;
  // Waiters for POLLOUT also wait on UnixEndpoint::SpaceQueue(): space at
  // a datagram receiver frees up without the sender being told directly.
  void EventRegister(Waiter* w, uint32_t mask) override;
  void EventUnregister(Waiter* w) override;
  std::string DisplayName() const override;

  UnixEndpoint& endpoint() { return *ep_; }
  const std::shared_ptr<UnixEndpoint>& endpoint_ref() { return ep_; }
  uint64_t ino() const { return ino_; }

  SocketOptions options() {
    std::lock_guard<std::mutex> l(mu_);
    return opts_;
  }
  template <typename F>
  void UpdateOptions(F f) {
    std::lock_guard<std::mutex> l(mu_);
    f(opts_);
  }

 private:
  std::shared_ptr<UnixEndpoint> ep_;
  const uint64_t ino_;
  const uid_t uid_;
  const gid_t gid_;
  struct timespec created_ {};
  std::mutex mu_;
  SocketOptions opts_;                                // guarded by mu_
  std::vector<std::pair<Waiter*, bool>> waiters_;     // (waiter, also on SpaceQueue); guarded by mu_
};

// The credentials a message from t carries by default (SCM_CREDENTIALS):
// thread-group id, real uid and gid.
struct ucred DefaultCreds(Task& t);

// A new socket file for ep, with O_RDWR and flags' O_NONBLOCK; owned by
// t's fsuid/fsgid.
std::shared_ptr<UnixSocketFile> MakeUnixSocketFile(std::shared_ptr<UnixEndpoint> ep, int flags, Task& t);

// getsockopt/setsockopt at SOL_SOCKET for a unix socket. Get returns the
// option's bytes (the caller truncates to optlen as Linux does).
// ENOPROTOOPT for unknown options, EOPNOTSUPP for other levels.
ErrnoOr<std::vector<uint8_t>> UnixGetSockOpt(Task& t, UnixSocketFile& f, int level, int name);
Errno UnixSetSockOpt(Task& t, UnixSocketFile& f, int level, int name, std::span<const uint8_t> val);

// sockfs device for fstat (0:8).
inline constexpr dev_t kSockFsDev = 8;

}  // namespace palisade::net
