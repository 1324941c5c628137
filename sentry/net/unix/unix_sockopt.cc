// SOL_SOCKET options of unix sockets, as socket(7) describes them and
// sk_getsockopt/sk_setsockopt implement them. Options that change nothing
// for a unix socket (SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER ...) are
// stored and read back, as Linux does.
#include <sys/time.h>

#include <cstring>

#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix_socket_file.h"

namespace palisade::net {
namespace {

constexpr int kCapNetAdmin = 12;

template <typename T>
std::vector<uint8_t> Bytes(const T& v) {
  std::vector<uint8_t> b(sizeof(T));
  memcpy(b.data(), &v, sizeof(T));
  return b;
}

std::vector<uint8_t> Timeval(int64_t ns) {
  struct timeval tv {};
  tv.tv_sec = ns / 1000000000;
  tv.tv_usec = (ns % 1000000000) / 1000;
  return Bytes(tv);
}

// sock_set_timeout(): EINVAL if short, EDOM for a bad tv_usec; negative
// seconds mean "no wait at all" (0 here would mean forever, so 1 ns).
ErrnoOr<int64_t> ParseTimeval(std::span<const uint8_t> val) {
  struct timeval tv {};
  if (val.size() < sizeof(tv)) return Errno(EINVAL);
  memcpy(&tv, val.data(), sizeof(tv));
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return Errno(EDOM);
  if (tv.tv_sec < 0) return int64_t{1};
  if (tv.tv_sec == 0 && tv.tv_usec == 0) return int64_t{0};
  constexpr int64_t kMaxSec = INT64_MAX / 1000000000 - 1;
  if (tv.tv_sec > kMaxSec) return int64_t{0};
  return tv.tv_sec * 1000000000ll + tv.tv_usec * 1000ll;
}

}  // namespace

ErrnoOr<std::vector<uint8_t>> UnixGetSockOpt(Task& t, UnixSocketFile& f, int level, int name) {
  if (level != SOL_SOCKET) return Errno(EOPNOTSUPP);
  UnixEndpoint& ep = f.endpoint();
  SocketOptions o = f.options();
  switch (name) {
    case SO_TYPE: return Bytes(ep.type());
    case SO_DOMAIN: return Bytes(int{AF_UNIX});
    case SO_PROTOCOL: return Bytes(int{0});
    case SO_ERROR: return Bytes(ep.TakeError());
    case SO_ACCEPTCONN: return Bytes(int{ep.listening()});
    case SO_PEERCRED: return Bytes(ep.PeerCreds());
    case SO_PASSCRED: return Bytes(int{ep.passcred()});
    case SO_SNDBUF: return Bytes(static_cast<int>(ep.sndbuf()));
    case SO_RCVBUF: return Bytes(static_cast<int>(ep.rcvbuf()));
    case SO_REUSEADDR: return Bytes(o.reuseaddr);
    case SO_REUSEPORT: return Bytes(o.reuseport);
    case SO_KEEPALIVE: return Bytes(o.keepalive);
    case SO_BROADCAST: return Bytes(o.broadcast);
    case SO_OOBINLINE: return Bytes(o.oobinline);
    case SO_DONTROUTE: return Bytes(o.dontroute);
    case SO_PASSSEC: return Bytes(o.passsec);
    case SO_PRIORITY: return Bytes(o.priority);
    case SO_RCVLOWAT: return Bytes(o.rcvlowat);
    case SO_SNDLOWAT: return Bytes(int{1});
    case SO_LINGER: return Bytes(o.linger);
    case SO_RCVTIMEO: return Timeval(o.rcvtimeo_ns);
    case SO_SNDTIMEO: return Timeval(o.sndtimeo_ns);
    default: return Errno(ENOPROTOOPT);
  }
}

Errno UnixSetSockOpt(Task& t, UnixSocketFile& f, int level, int name, std::span<const uint8_t> val) {
  if (level != SOL_SOCKET) return Errno(EOPNOTSUPP);
  if (name == SO_LINGER) {
    struct linger lg {};
    if (val.size() < sizeof(lg)) return Errno(EINVAL);
    memcpy(&lg, val.data(), sizeof(lg));
    f.UpdateOptions([&](SocketOptions& o) { o.linger = {lg.l_onoff ? 1 : 0, lg.l_linger}; });
    return Errno::Ok();
  }
  if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
    PAL_TRY(int64_t ns, ParseTimeval(val));
    f.UpdateOptions([&](SocketOptions& o) { (name == SO_RCVTIMEO ? o.rcvtimeo_ns : o.sndtimeo_ns) = ns; });
    return Errno::Ok();
  }
  if (val.size() < sizeof(int)) return Errno(EINVAL);
  int v;
  memcpy(&v, val.data(), sizeof(v));
  UnixEndpoint& ep = f.endpoint();
  switch (name) {
    case SO_PASSCRED: ep.set_passcred(v != 0); return Errno::Ok();
    case SO_SNDBUF: ep.set_sndbuf(static_cast<unsigned>(v) > INT32_MAX / 2 ? INT32_MAX / 2 : v); return Errno::Ok();
    case SO_RCVBUF: ep.set_rcvbuf(static_cast<unsigned>(v) > INT32_MAX / 2 ? INT32_MAX / 2 : v); return Errno::Ok();
    case SO_SNDBUFFORCE:
    case SO_RCVBUFFORCE:
      if (!t.creds().HasCap(kCapNetAdmin)) return Errno(EPERM);
      name == SO_SNDBUFFORCE ? ep.set_sndbuf(v) : ep.set_rcvbuf(v);
      return Errno::Ok();
    case SO_REUSEADDR: f.UpdateOptions([&](SocketOptions& o) { o.reuseaddr = v != 0; }); return Errno::Ok();
    case SO_REUSEPORT: f.UpdateOptions([&](SocketOptions& o) { o.reuseport = v != 0; }); return Errno::Ok();
    case SO_KEEPALIVE: f.UpdateOptions([&](SocketOptions& o) { o.keepalive = v != 0; }); return Errno::Ok();
    case SO_BROADCAST: f.UpdateOptions([&](SocketOptions& o) { o.broadcast = v != 0; }); return Errno::Ok();
    case SO_OOBINLINE: f.UpdateOptions([&](SocketOptions& o) { o.oobinline = v != 0; }); return Errno::Ok();
    case SO_DONTROUTE: f.UpdateOptions([&](SocketOptions& o) { o.dontroute = v != 0; }); return Errno::Ok();
    case SO_PASSSEC: f.UpdateOptions([&](SocketOptions& o) { o.passsec = v != 0; }); return Errno::Ok();
    case SO_PRIORITY:
      if ((v < 0 || v > 6) && !t.creds().HasCap(kCapNetAdmin)) return Errno(EPERM);
      f.UpdateOptions([&](SocketOptions& o) { o.priority = v; });
      return Errno::Ok();
    case SO_RCVLOWAT:
      f.UpdateOptions([&](SocketOptions& o) { o.rcvlowat = v < 0 ? INT32_MAX : (v == 0 ? 1 : v); });
      return Errno::Ok();
    case SO_SNDLOWAT: return Errno(ENOPROTOOPT);
    case SO_TYPE: case SO_DOMAIN: case SO_PROTOCOL: case SO_ERROR: case SO_ACCEPTCONN: case SO_PEERCRED:
      return Errno(ENOPROTOOPT);
    default:
      return Errno(ENOPROTOOPT);
  }
}

}  // namespace palisade::net
