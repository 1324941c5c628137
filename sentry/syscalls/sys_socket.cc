// Socket creation, naming, connections and options: socket, socketpair,
// bind, listen, accept, accept4, connect, shutdown, getsockname,
// getpeername, getsockopt, setsockopt (socket(2) ... socket(7), unix(7)).
// Only AF_UNIX exists in the sentry; other families are EAFNOSUPPORT
// (docs/compatibility.md). The sockets themselves are sentry/net/unix/.
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <climits>

#include "sentry/net/socket_wait.h"
#include "sentry/net/unix/unix_socket_file.h"
#include "sentry/syscalls/handlers_net.h"
#include "sentry/syscalls/sys_poll_common.h"
#include "sentry/syscalls/sys_socket_common.h"
#include "sentry/vfs/vfs.h"

namespace palisade::sys {

using net::UnixAddress;
using net::UnixEndpoint;
using net::UnixSocketFile;

ErrnoOr<std::shared_ptr<UnixSocketFile>> GetSocket(Task& t, int fd) {
  PAL_TRY(FileRef f, t.fds().GetOrEbadf(fd));
  auto s = std::dynamic_pointer_cast<UnixSocketFile>(f);
  if (!s) return Errno(ENOTSOCK);
  return s;
}

ErrnoOr<std::vector<uint8_t>> CopyInSockaddr(Task& t, uint64_t addr, int64_t len) {
  if (len < 0 || len > static_cast<int64_t>(sizeof(struct sockaddr_storage))) return Errno(EINVAL);
  std::vector<uint8_t> raw(static_cast<size_t>(len));
  if (len > 0) PAL_TRY_ERRNO(t.CopyIn(addr, raw.data(), raw.size()));
  return raw;
}

Errno CopyOutSockaddr(Task& t, const std::string& raw, uint64_t addr, uint64_t len_addr) {
  int len = 0;
  PAL_TRY_ERRNO(t.CopyInObj(len_addr, len));
  if (len < 0) return Errno(EINVAL);
  size_t n = std::min<size_t>(static_cast<size_t>(len), raw.size());
  if (n > 0) PAL_TRY_ERRNO(t.CopyOut(addr, raw.data(), n));
  int full = static_cast<int>(raw.size());
  return t.CopyOutObj(len_addr, full);
}

struct ucred PeerCredsOf(Task& t) {
  Credentials c = t.creds();
  return {static_cast<pid_t>(t.tgid()), c.euid, c.egid};
}

int FdLimit(Task& t) { return static_cast<int>(std::min<uint64_t>(NofileLimit(t), INT_MAX)); }

namespace {

constexpr int kSockTypeMask = 0xf;
constexpr int kSockMax = 11;  // SOCK_MAX
constexpr int kAfMax = 46;    // AF_MAX

// socket(2)'s argument checks in __sys_socket/__sock_create/unix_create
// order; returns the unix socket type.
ErrnoOr<int> CheckSocketArgs(int family, int type, int protocol) {
  int flags = type & ~kSockTypeMask;
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return Errno(EINVAL);
  int base = type & kSockTypeMask;
  if (family < 0 || family >= kAfMax) return Errno(EAFNOSUPPORT);
  if (base >= kSockMax) return Errno(EINVAL);
  // The sentry has no network stack: only AF_UNIX exists.
  if (family != AF_UNIX) return Errno(EAFNOSUPPORT);
  if (protocol != 0 && protocol != PF_UNIX) return Errno(EPROTONOSUPPORT);
  switch (base) {
    case SOCK_STREAM: case SOCK_DGRAM: case SOCK_SEQPACKET: return base;
    case SOCK_RAW: return int{SOCK_DGRAM};  // unix_create() treats it as a datagram socket
    default: return Errno(ESOCKTNOSUPPORT);
  }
}

int OpenFlags(int type) { return (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0; }

SyscallResult DoAccept(Task& t, int fd, uint64_t addr, uint64_t len_addr, int flags) {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return Errno(EINVAL);
  PAL_TRY(auto s, GetSocket(t, fd));
  std::shared_ptr<UnixEndpoint> conn;
  Errno e = net::SocketWait(t, *s, POLLIN, s->nonblocking(), s->options().rcvtimeo_ns, [&]() -> Errno {
    auto r = s->endpoint().Accept();
    if (!r.ok()) return r.error();
    conn = std::move(*r);
    return Errno::Ok();
  });
  PAL_TRY_ERRNO(e);
  auto f = net::MakeUnixSocketFile(conn, OpenFlags(flags), t);
  if (addr != 0) {
    // The client's name (unnamed: just the family); a bad buffer loses
    // the connection, as Linux's accept does.
    ErrnoOr<UnixAddress> peer = conn->PeerAddress();
    PAL_TRY_ERRNO(CopyOutSockaddr(t, peer.ok() ? peer->ToSockaddr() : UnixAddress{}.ToSockaddr(), addr, len_addr));
  }
  PAL_TRY(int nfd, t.fds().Add(f, flags & SOCK_CLOEXEC, 0, FdLimit(t)));
  return int64_t{nfd};
}

}  // namespace

SyscallResult Socket(Task& t, const SyscallArgs& a) {
  int type = a[1].Int();
  PAL_TRY(int base, CheckSocketArgs(a[0].Int(), type, a[2].Int()));
  auto f = net::MakeUnixSocketFile(UnixEndpoint::Create(base), OpenFlags(type), t);
  PAL_TRY(int fd, t.fds().Add(f, type & SOCK_CLOEXEC, 0, FdLimit(t)));
  return int64_t{fd};
}

SyscallResult Socketpair(Task& t, const SyscallArgs& a) {
  int type = a[1].Int();
  PAL_TRY(int base, CheckSocketArgs(a[0].Int(), type, a[2].Int()));
  auto ea = UnixEndpoint::Create(base), eb = UnixEndpoint::Create(base);
  struct ucred c = PeerCredsOf(t);
  UnixEndpoint::ConnectPair(ea, eb, c, c);
  auto fa = net::MakeUnixSocketFile(ea, OpenFlags(type), t);
  auto fb = net::MakeUnixSocketFile(eb, OpenFlags(type), t);
  bool cloexec = type & SOCK_CLOEXEC;
  PAL_TRY(int fda, t.fds().Add(fa, cloexec, 0, FdLimit(t)));
  auto fdb = t.fds().Add(fb, cloexec, 0, FdLimit(t));
  if (!fdb.ok()) {
    (void)t.fds().Remove(fda);
    return fdb.error();
  }
  int sv[2] = {fda, *fdb};
  if (Errno e = t.CopyOut(a[3].Ptr(), sv, sizeof(sv)); !e.ok()) {
    (void)t.fds().Remove(fda);
    (void)t.fds().Remove(*fdb);
    return e;
  }
  return int64_t{0};
}

SyscallResult Bind(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  PAL_TRY(auto raw, CopyInSockaddr(t, a[1].Ptr(), a[2].Int()));
  PAL_TRY(UnixAddress addr, net::ParseUnixAddress(raw, /*allow_unnamed=*/true));
  return s->endpoint().Bind(vfs::ContextFor(t), addr);
}

SyscallResult Listen(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  return s->endpoint().Listen(a[1].Int(), PeerCredsOf(t));
}

SyscallResult Accept(Task& t, const SyscallArgs& a) { return DoAccept(t, a[0].Fd(), a[1].Ptr(), a[2].Ptr(), 0); }

SyscallResult Accept4(Task& t, const SyscallArgs& a) {
  return DoAccept(t, a[0].Fd(), a[1].Ptr(), a[2].Ptr(), a[3].Int());
}

SyscallResult Connect(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  PAL_TRY(auto raw, CopyInSockaddr(t, a[1].Ptr(), a[2].Int()));
  UnixEndpoint& ep = s->endpoint();
  if (ep.type() == SOCK_DGRAM && raw.size() >= sizeof(sa_family_t)) {
    sa_family_t fam;
    memcpy(&fam, raw.data(), sizeof(fam));
    if (fam == AF_UNSPEC) return ep.ConnectDgram(nullptr);
  }
  PAL_TRY(UnixAddress addr, net::ParseUnixAddress(raw, /*allow_unnamed=*/false));
  PAL_TRY(auto target, net::LookupUnixEndpoint(vfs::ContextFor(t), addr, ep.type()));
  if (ep.type() == SOCK_DGRAM) return ep.ConnectDgram(target);
  struct ucred c = PeerCredsOf(t);
  return net::SocketWait(t, *s, POLLOUT, s->nonblocking(), s->options().sndtimeo_ns,
                         [&] { return ep.ConnectStream(target, c); });
}

SyscallResult Shutdown(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  return s->endpoint().Shutdown(a[1].Int());
}

SyscallResult Getsockname(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  return CopyOutSockaddr(t, s->endpoint().address().ToSockaddr(), a[1].Ptr(), a[2].Ptr());
}

SyscallResult Getpeername(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  PAL_TRY(UnixAddress peer, s->endpoint().PeerAddress());
  return CopyOutSockaddr(t, peer.ToSockaddr(), a[1].Ptr(), a[2].Ptr());
}

SyscallResult Getsockopt(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  int len = 0;
  PAL_TRY_ERRNO(t.CopyInObj(a[4].Ptr(), len));
  if (len < 0) return Errno(EINVAL);
  PAL_TRY(std::vector<uint8_t> v, net::UnixGetSockOpt(t, *s, a[1].Int(), a[2].Int()));
  size_t n = std::min<size_t>(static_cast<size_t>(len), v.size());
  if (n > 0) PAL_TRY_ERRNO(t.CopyOut(a[3].Ptr(), v.data(), n));
  int out = static_cast<int>(n);
  return t.CopyOutObj(a[4].Ptr(), out);
}

SyscallResult Setsockopt(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  int len = a[4].Int();
  if (len < 0) return Errno(EINVAL);
  // Every SOL_SOCKET option fits in 64 bytes; the rest is never read.
  std::vector<uint8_t> v(std::min(len, 64));
  if (!v.empty()) PAL_TRY_ERRNO(t.CopyIn(a[3].Ptr(), v.data(), v.size()));
  return net::UnixSetSockOpt(t, *s, a[1].Int(), a[2].Int(), v);
}

}  // namespace palisade::sys
