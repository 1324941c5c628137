// Data transfer on sockets: sendto, recvfrom, sendmsg, recvmsg, sendmmsg,
// recvmmsg (send(2), recv(2), sendmmsg(2), recvmmsg(2)), including the
// control messages of unix(7) and cmsg(3): SCM_RIGHTS (open files travel
// as sentry FileDescriptions; MSG_CTRUNC when the receiver's buffer is
// short) and SCM_CREDENTIALS (checked as scm_check_creds does).
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "sentry/fsimpl/pipe/pipe.h"  // SendSigpipe
#include "sentry/net/socket_wait.h"
#include "sentry/syscalls/handlers_net.h"
#include "sentry/syscalls/iovec.h"
#include "sentry/syscalls/sys_socket_common.h"
#include "sentry/vfs/vfs.h"

namespace palisade::sys {

using net::UnixAddress;
using net::UnixEndpoint;
using net::UnixRecvResult;
using net::UnixSendRequest;
using net::UnixSocketFile;

namespace {

constexpr uint64_t kOptMemMax = 131072;    // net.core.optmem_max: control buffer limit
constexpr size_t kStreamChunk = 1 << 20;   // bounce buffer for stream sends
constexpr int kCapSysAdmin = 21, kCapSetgid = 6, kCapSetuid = 7;

// A user msghdr with the fields copied in.
struct MsgHeader {
  uint64_t name = 0;
  int namelen = 0;
  std::vector<Seg> iov;
  uint64_t total = 0;
  uint64_t control = 0;
  uint64_t controllen = 0;
};

// sendmsg(2)'s msg_iov: EMSGSIZE for a bad count, then CopyInIovecs's rules.
ErrnoOr<std::vector<Seg>> CopyInIov(Task& t, uint64_t addr, uint64_t cnt, uint64_t* total) {
  if (cnt > static_cast<uint64_t>(kIovMax)) return Errno(EMSGSIZE);
  PAL_TRY(std::vector<Seg> segs, CopyInIovecs(t, addr, cnt));
  *total = IovTotal(segs);
  return segs;
}

ErrnoOr<MsgHeader> CopyInMsg(Task& t, uint64_t addr) {
  struct msghdr m {};
  PAL_TRY_ERRNO(t.CopyInObj(addr, m));
  MsgHeader h;
  h.name = reinterpret_cast<uint64_t>(m.msg_name);
  h.namelen = static_cast<int>(m.msg_namelen);
  if (h.namelen < 0) return Errno(EINVAL);
  h.namelen = std::min<int>(h.namelen, sizeof(struct sockaddr_storage));
  PAL_TRY(h.iov, CopyInIov(t, reinterpret_cast<uint64_t>(m.msg_iov), m.msg_iovlen, &h.total));
  h.control = reinterpret_cast<uint64_t>(m.msg_control);
  h.controllen = m.msg_controllen;
  return h;
}

Errno GatherIn(Task& t, const std::vector<Seg>& segs, uint64_t skip, uint8_t* dst, size_t n) {
  return CopyIovecs(t, segs, skip, dst, n, /*out=*/false);
}

Errno ScatterOut(Task& t, const std::vector<Seg>& segs, uint64_t skip, const uint8_t* src, size_t n) {
  return CopyIovecs(t, segs, skip, const_cast<uint8_t*>(src), n, /*out=*/true);
}

// __scm_send for a unix socket: SOL_SOCKET messages only (others are
// skipped), SCM_RIGHTS (at most SCM_MAX_FD files, EBADF for a closed fd)
// and SCM_CREDENTIALS (EPERM unless they are the sender's own or it holds
// the capability).
Errno ParseControl(Task& t, const MsgHeader& h, UnixSendRequest& req) {
  if (h.controllen == 0) return Errno::Ok();
  if (h.controllen > INT_MAX || h.controllen > kOptMemMax) return Errno(ENOBUFS);
  std::vector<uint8_t> buf(h.controllen);
  PAL_TRY_ERRNO(t.CopyIn(h.control, buf.data(), buf.size()));
  size_t off = 0;
  // off may pass the end after the last (aligned) message: compare, never subtract.
  while (off + sizeof(struct cmsghdr) <= buf.size()) {
    struct cmsghdr c;
    memcpy(&c, buf.data() + off, sizeof(c));
    if (c.cmsg_len < sizeof(struct cmsghdr) || c.cmsg_len > buf.size() - off) return Errno(EINVAL);
    const uint8_t* data = buf.data() + off + CMSG_LEN(0);
    size_t dlen = c.cmsg_len - CMSG_LEN(0);
    if (c.cmsg_level == SOL_SOCKET) {
      if (c.cmsg_type == SCM_RIGHTS) {
        size_t num = dlen / sizeof(int);
        if (num > 0) {
          if (req.rights.size() + num > static_cast<size_t>(net::kScmMaxFd)) return Errno(EINVAL);
          for (size_t i = 0; i < num; i++) {
            int fd;
            memcpy(&fd, data + i * sizeof(int), sizeof(int));
            PAL_TRY(FileRef f, t.fds().GetOrEbadf(fd));
            req.rights.push_back(std::move(f));
          }
        }
      } else if (c.cmsg_type == SCM_CREDENTIALS) {
        if (c.cmsg_len != CMSG_LEN(sizeof(struct ucred))) return Errno(EINVAL);
        struct ucred u;
        memcpy(&u, data, sizeof(u));
        Credentials cr = t.creds();
        bool pid_ok = u.pid == t.tgid() || cr.HasCap(kCapSysAdmin);
        bool uid_ok = u.uid == cr.ruid || u.uid == cr.euid || u.uid == cr.suid || cr.HasCap(kCapSetuid);
        bool gid_ok = u.gid == cr.rgid || u.gid == cr.egid || u.gid == cr.sgid || cr.HasCap(kCapSetgid);
        if (!pid_ok || !uid_ok || !gid_ok) return Errno(EPERM);
        if (u.uid == static_cast<uid_t>(-1) || u.gid == static_cast<gid_t>(-1)) return Errno(EINVAL);
        req.creds = u;
      } else {
        return Errno(EINVAL);
      }
    }
    off += CMSG_ALIGN(c.cmsg_len);
  }
  return Errno::Ok();
}

bool NonBlocking(UnixSocketFile& s, int flags) { return s.nonblocking() || (flags & MSG_DONTWAIT); }

// One sendmsg: returns bytes sent. A stream send moves everything unless
// it would block on a non-blocking socket, a signal arrives, or it fails
// after some bytes went (then the count is the result).
ErrnoOr<int64_t> DoSendMsg(Task& t, UnixSocketFile& s, const MsgHeader& h, int flags) {
  if (flags & MSG_OOB) return Errno(EOPNOTSUPP);
  UnixEndpoint& ep = s.endpoint();
  UnixSendRequest req;
  req.default_creds = net::DefaultCreds(t);
  req.inflight_limit = FdLimit(t);
  if (h.namelen > 0 && ep.type() != SOCK_SEQPACKET) {
    if (ep.type() == SOCK_STREAM) {
      // unix_stream_sendmsg refuses any address before looking at it.
      return Errno(ep.PeerAddress().ok() ? EISCONN : EOPNOTSUPP);
    }
    PAL_TRY(auto raw, CopyInSockaddr(t, h.name, h.namelen));
    PAL_TRY(UnixAddress to, net::ParseUnixAddress(raw, /*allow_unnamed=*/false));
    PAL_TRY(req.to, net::LookupUnixEndpoint(vfs::ContextFor(t), to, ep.type()));
  }
  PAL_TRY_ERRNO(ParseControl(t, h, req));
  const bool nonblock = NonBlocking(s, flags);
  const int64_t timeout = s.options().sndtimeo_ns;
  int64_t sent = 0;
  Errno err;
  if (ep.type() != SOCK_STREAM) {
    if (static_cast<int64_t>(h.total) > ep.sndbuf() - 32) return Errno(EMSGSIZE);
    std::vector<uint8_t> buf(h.total);
    PAL_TRY_ERRNO(GatherIn(t, h.iov, 0, buf.data(), buf.size()));
    req.data = buf;
    err = net::SocketWait(t, s, POLLOUT, nonblock, timeout, [&]() -> Errno {
      auto r = ep.Send(req);
      if (!r.ok()) return r.error();
      sent = *r;
      return Errno::Ok();
    });
    if (!err.ok()) return err;
    return sent;
  }
  std::vector<uint8_t> buf(std::min<uint64_t>(h.total, kStreamChunk));
  do {
    size_t want = std::min<uint64_t>(h.total - sent, kStreamChunk);
    if (Errno e = GatherIn(t, h.iov, sent, buf.data(), want); !e.ok()) {
      err = e;
      break;
    }
    size_t done = 0;
    while (done < want || want == 0) {
      req.data = std::span<const uint8_t>(buf.data() + done, want - done);
      int64_t n = 0;
      err = net::SocketWait(t, s, POLLOUT, nonblock, timeout, [&]() -> Errno {
        auto r = ep.Send(req);
        if (!r.ok()) return r.error();
        n = *r;
        return Errno::Ok();
      });
      if (!err.ok() || want == 0) break;
      done += n;
      sent += n;
    }
    if (!err.ok()) break;
  } while (static_cast<uint64_t>(sent) < h.total);
  if (!err.ok()) {
    if (sent > 0) return sent;
    if (err == Errno(EPIPE) && !(flags & MSG_NOSIGNAL)) SendSigpipe(t);
    return err;
  }
  return sent;
}

// put_cmsg(): appends one control message, truncating (MSG_CTRUNC) as
// Linux does when the buffer is short.
struct ControlOut {
  std::vector<uint8_t> buf;  // capacity = the app's msg_controllen
  size_t used = 0;
  int flags = 0;

  void Put(int level, int type, const void* data, size_t len) {
    size_t room = buf.size() - used;
    if (room < sizeof(struct cmsghdr)) {
      flags |= MSG_CTRUNC;
      return;
    }
    size_t cmlen = CMSG_LEN(len);
    if (room < cmlen) {
      flags |= MSG_CTRUNC;
      cmlen = room;
    }
    struct cmsghdr h {};
    h.cmsg_len = cmlen;
    h.cmsg_level = level;
    h.cmsg_type = type;
    memcpy(buf.data() + used, &h, sizeof(h));
    memcpy(buf.data() + used + CMSG_LEN(0), data, cmlen - CMSG_LEN(0));
    used += std::min(CMSG_SPACE(len), room);
  }
};

// scm_detach_fds(): installs as many passed files as fit; the rest are
// closed and MSG_CTRUNC is set.
void DetachRights(Task& t, std::vector<FileRef>& rights, bool cloexec, ControlOut& c) {
  size_t room = c.buf.size() - c.used;
  size_t fdmax = room > CMSG_LEN(0) ? (room - CMSG_LEN(0)) / sizeof(int) : 0;
  std::vector<int> fds;
  for (size_t i = 0; i < rights.size() && fds.size() < fdmax; i++) {
    auto fd = t.fds().Add(rights[i], cloexec, 0, FdLimit(t));
    if (!fd.ok()) break;
    fds.push_back(*fd);
  }
  if (!fds.empty()) c.Put(SOL_SOCKET, SCM_RIGHTS, fds.data(), fds.size() * sizeof(int));
  if (fds.size() < rights.size()) c.flags |= MSG_CTRUNC;
}

struct RecvOutcome {
  int64_t result = 0;  // the syscall's return value
  int msg_flags = 0;
  std::string from;  // raw sockaddr, empty for an unnamed sender
};

// One recvmsg into h's buffers; builds control messages if want_control.
ErrnoOr<RecvOutcome> DoRecvMsg(Task& t, UnixSocketFile& s, const MsgHeader& h, int flags, ControlOut* ctl) {
  if (flags & MSG_OOB) return Errno(EOPNOTSUPP);
  if (flags & MSG_ERRQUEUE) return Errno(EAGAIN);  // unix sockets have no error queue
  UnixEndpoint& ep = s.endpoint();
  const bool nonblock = NonBlocking(s, flags);
  const bool peek = flags & MSG_PEEK;
  const int64_t timeout = s.options().rcvtimeo_ns;
  UnixRecvResult r;
  Errno e = net::SocketWait(t, s, POLLIN, nonblock, timeout, [&]() -> Errno {
    auto got = ep.Recv(h.total, peek, nonblock);
    if (!got.ok()) return got.error();
    r = std::move(*got);
    return Errno::Ok();
  });
  PAL_TRY_ERRNO(e);
  // MSG_WAITALL on a stream: keep reading until the buffer is full, EOF,
  // a passed file, an error or a signal; what arrived so far is returned.
  if (ep.type() == SOCK_STREAM && (flags & MSG_WAITALL) && !peek) {
    while (r.data.size() < h.total && !r.data.empty() && r.rights.empty()) {
      UnixRecvResult more;
      Errno e2 = net::SocketWait(t, s, POLLIN, nonblock, timeout, [&]() -> Errno {
        auto got = ep.Recv(h.total - r.data.size(), false, nonblock);
        if (!got.ok()) return got.error();
        more = std::move(*got);
        return Errno::Ok();
      });
      if (!e2.ok() || more.data.empty()) break;
      r.data.insert(r.data.end(), more.data.begin(), more.data.end());
      r.rights = std::move(more.rights);
    }
  }
  RecvOutcome out;
  PAL_TRY_ERRNO(ScatterOut(t, h.iov, 0, r.data.data(), r.data.size()));
  out.result = static_cast<int64_t>(r.data.size());
  if (r.truncated) {
    out.msg_flags |= MSG_TRUNC;
    if (flags & MSG_TRUNC) out.result = r.full_len;
  }
  if (!r.from.unnamed()) out.from = r.from.ToSockaddr();
  if (ctl == nullptr || ctl->buf.empty()) {
    // No control buffer (recvfrom, or msg_control NULL): credentials or
    // files that had to be delivered are lost, and the app is told.
    if (r.creds || !r.rights.empty()) out.msg_flags |= MSG_CTRUNC;
    return out;
  }
  if (r.creds) ctl->Put(SOL_SOCKET, SCM_CREDENTIALS, &*r.creds, sizeof(struct ucred));
  if (!r.rights.empty()) DetachRights(t, r.rights, flags & MSG_CMSG_CLOEXEC, *ctl);
  out.msg_flags |= ctl->flags;
  return out;
}

// recvmsg's write-back: msg_namelen, msg_controllen, msg_flags; the name.
Errno FinishRecvMsg(Task& t, uint64_t msg_addr, const MsgHeader& h, const RecvOutcome& out, const ControlOut& ctl) {
  struct msghdr m {};
  PAL_TRY_ERRNO(t.CopyInObj(msg_addr, m));
  if (h.name != 0) {
    size_t n = std::min<size_t>(h.namelen, out.from.size());
    if (n > 0) PAL_TRY_ERRNO(t.CopyOut(h.name, out.from.data(), n));
    m.msg_namelen = static_cast<socklen_t>(out.from.size());
  }
  if (ctl.used > 0) PAL_TRY_ERRNO(t.CopyOut(h.control, ctl.buf.data(), ctl.used));
  m.msg_controllen = ctl.used;
  m.msg_flags = out.msg_flags;
  return t.CopyOutObj(msg_addr, m);
}

ErrnoOr<int64_t> RecvMsgAt(Task& t, UnixSocketFile& s, uint64_t msg_addr, int flags) {
  PAL_TRY(MsgHeader h, CopyInMsg(t, msg_addr));
  ControlOut ctl;
  if (h.control != 0) ctl.buf.resize(std::min<uint64_t>(h.controllen, kOptMemMax));
  PAL_TRY(RecvOutcome out, DoRecvMsg(t, s, h, flags, &ctl));
  PAL_TRY_ERRNO(FinishRecvMsg(t, msg_addr, h, out, ctl));
  return out.result;
}

ErrnoOr<int64_t> SendMsgAt(Task& t, UnixSocketFile& s, uint64_t msg_addr, int flags) {
  PAL_TRY(MsgHeader h, CopyInMsg(t, msg_addr));
  return DoSendMsg(t, s, h, flags);
}

}  // namespace

SyscallResult Sendto(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  MsgHeader h;
  h.total = std::min<uint64_t>(a[2].Size(), kMaxRwCount);
  h.iov.push_back({a[1].Ptr(), h.total});
  h.name = a[4].Ptr();
  h.namelen = h.name ? a[5].Int() : 0;
  if (h.namelen < 0) return Errno(EINVAL);
  return DoSendMsg(t, *s, h, a[3].Int());
}

SyscallResult Recvfrom(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  MsgHeader h;
  h.total = std::min<uint64_t>(a[2].Size(), kMaxRwCount);
  h.iov.push_back({a[1].Ptr(), h.total});
  PAL_TRY(RecvOutcome out, DoRecvMsg(t, *s, h, a[3].Int(), nullptr));
  if (a[4].Ptr() != 0 && a[5].Ptr() != 0) PAL_TRY_ERRNO(CopyOutSockaddr(t, out.from, a[4].Ptr(), a[5].Ptr()));
  return out.result;
}

SyscallResult Sendmsg(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  return SendMsgAt(t, *s, a[1].Ptr(), a[2].Int());
}

SyscallResult Recvmsg(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  return RecvMsgAt(t, *s, a[1].Ptr(), a[2].Int());
}

SyscallResult Sendmmsg(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  uint64_t vec = a[1].Ptr();
  unsigned vlen = std::min<unsigned>(a[2].Uint(), kIovMax);
  int flags = a[3].Int();
  unsigned i = 0;
  for (; i < vlen; i++) {
    uint64_t at = vec + i * sizeof(struct mmsghdr);
    auto r = SendMsgAt(t, *s, at, flags);
    if (!r.ok()) {
      if (i == 0) return r.error();
      break;
    }
    unsigned len = static_cast<unsigned>(*r);
    if (Errno e = t.CopyOutObj(at + offsetof(struct mmsghdr, msg_len), len); !e.ok()) {
      if (i == 0) return e;
      break;
    }
  }
  return int64_t{i};
}

SyscallResult Recvmmsg(Task& t, const SyscallArgs& a) {
  PAL_TRY(auto s, GetSocket(t, a[0].Fd()));
  uint64_t vec = a[1].Ptr();
  unsigned vlen = std::min<unsigned>(a[2].Uint(), kIovMax);
  int flags = a[3].Int();
  int64_t deadline = -1;
  if (a[4].Ptr() != 0) {
    struct timespec ts {};
    PAL_TRY_ERRNO(t.CopyInObj(a[4].Ptr(), ts));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Errno(EINVAL);
    struct timespec now {};
    clock_gettime(CLOCK_MONOTONIC, &now);
    deadline = (now.tv_sec + ts.tv_sec) * 1000000000ll + now.tv_nsec + ts.tv_nsec;
  }
  unsigned i = 0;
  for (; i < vlen; i++) {
    uint64_t at = vec + i * sizeof(struct mmsghdr);
    int f = flags & ~MSG_WAITFORONE;
    if (i > 0 && (flags & MSG_WAITFORONE)) f |= MSG_DONTWAIT;
    auto r = RecvMsgAt(t, *s, at, f);
    if (!r.ok()) {
      if (i == 0) return r.error();
      break;
    }
    unsigned len = static_cast<unsigned>(*r);
    if (Errno e = t.CopyOutObj(at + offsetof(struct mmsghdr, msg_len), len); !e.ok()) {
      if (i == 0) return e;
      break;
    }
    if (deadline >= 0) {
      // As Linux, the timeout is only looked at between datagrams.
      struct timespec now {};
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec * 1000000000ll + now.tv_nsec >= deadline) {
        i++;
        break;
      }
    }
  }
  return int64_t{i};
}

}  // namespace palisade::sys
