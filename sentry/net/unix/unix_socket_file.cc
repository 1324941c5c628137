#include "sentry/net/unix/unix_socket_file.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "sentry/fsimpl/pipe/pipe.h"  // SendSigpipe
#include "sentry/kernel/task.h"
#include "sentry/net/socket_wait.h"

namespace palisade::net {
namespace {

// sockfs inode numbers: unique per socket for the sentry's lifetime.
std::atomic<uint64_t> next_sock_ino{5000};

}  // namespace

struct ucred DefaultCreds(Task& t) {
  Credentials c = t.creds();
  return {static_cast<pid_t>(t.tgid()), c.ruid, c.rgid};
}

std::shared_ptr<UnixSocketFile> MakeUnixSocketFile(std::shared_ptr<UnixEndpoint> ep, int flags, Task& t) {
  Credentials c = t.creds();
  return std::make_shared<UnixSocketFile>(std::move(ep), O_RDWR | (flags & O_NONBLOCK), c.fsuid, c.fsgid);
}

UnixSocketFile::UnixSocketFile(std::shared_ptr<UnixEndpoint> ep, int flags, uid_t uid, gid_t gid)
    : FileDescription(flags), ep_(std::move(ep)), ino_(next_sock_ino.fetch_add(1)), uid_(uid), gid_(gid) {
  clock_gettime(CLOCK_REALTIME, &created_);
}

UnixSocketFile::~UnixSocketFile() {
  // An epoll interest may never unregister; the queues outlive this file.
  for (auto& [w, space] : waiters_) {
    ep_->queue().Unregister(w);
    if (space) UnixEndpoint::SpaceQueue().Unregister(w);
  }
  ep_->Close();
}

ErrnoOr<int64_t> UnixSocketFile::Read(Task& t, std::span<uint8_t> dst) {
  PAL_TRY(UnixRecvResult r, ep_->Recv(dst.size(), /*peek=*/false, nonblocking()));
  // Files passed to read(2) are dropped (closed), as Linux does.
  memcpy(dst.data(), r.data.data(), r.data.size());
  return static_cast<int64_t>(r.data.size());
}

ErrnoOr<int64_t> UnixSocketFile::Write(Task& t, std::span<const uint8_t> src) {
  UnixSendRequest req;
  req.data = src;
  req.default_creds = DefaultCreds(t);
  ErrnoOr<int64_t> r = ep_->Send(req);
  if (!r.ok()) {
    // Only stream sockets raise SIGPIPE (unix_stream_sendmsg); datagram
    // and seqpacket sends just fail with EPIPE.
    if (r.error() == Errno(EPIPE) && ep_->type() == SOCK_STREAM) SendSigpipe(t);
    return r;  // EAGAIN: the write(2) layer waits (BlockingIo) and retries
  }
  // A blocking write(2) to a stream socket moves everything, as
  // unix_stream_sendmsg does; it stops early only on a signal or an error,
  // and then reports what was sent.
  int64_t done = *r;
  if (nonblocking() || ep_->type() != SOCK_STREAM) return done;
  while (done < static_cast<int64_t>(src.size())) {
    req.data = src.subspan(done);
    int64_t n = 0;
    Errno e = SocketWait(t, *this, POLLOUT, /*nonblock=*/false, /*timeout_ns=*/0, [&]() -> Errno {
      ErrnoOr<int64_t> more = ep_->Send(req);
      if (!more.ok()) return more.error();
      n = *more;
      return Errno::Ok();
    });
    if (!e.ok()) break;
    done += n;
  }
  return done;
}

ErrnoOr<struct stat> UnixSocketFile::Stat(Task& t) {
  struct stat st {};
  st.st_dev = kSockFsDev;
  st.st_ino = ino_;
  st.st_mode = S_IFSOCK | 0777;
  st.st_nlink = 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = 4096;
  st.st_atim = st.st_mtim = st.st_ctim = created_;
  return st;
}

ErrnoOr<int64_t> UnixSocketFile::Ioctl(Task& t, uint64_t cmd, uint64_t arg) {
  switch (cmd) {
    case FIONREAD: {
      if (ep_->listening()) return Errno(EINVAL);
      int n = static_cast<int>(std::min<int64_t>(ep_->QueuedForRead(), INT32_MAX));
      PAL_TRY_ERRNO(t.CopyOutObj(arg, n));
      return int64_t{0};
    }
    case TIOCOUTQ: {
      if (ep_->listening()) return Errno(EINVAL);
      int n = static_cast<int>(std::min<int64_t>(ep_->QueuedAtPeer(), INT32_MAX));
      PAL_TRY_ERRNO(t.CopyOutObj(arg, n));
      return int64_t{0};
    }
    default:
      return Errno(ENOTTY);
  }
}

uint32_t UnixSocketFile::Readiness(uint32_t mask) { return ep_->Readiness() & mask; }

void UnixSocketFile::EventRegister(Waiter* w, uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  bool space = mask & (POLLOUT | POLLWRNORM | POLLWRBAND);
  waiters_.emplace_back(w, space);
  ep_->queue().Register(w, mask);
  if (space) UnixEndpoint::SpaceQueue().Register(w, kEventAll);
}

void UnixSocketFile::EventUnregister(Waiter* w) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [w](const auto& e) { return e.first == w; });
  if (it == waiters_.end()) return;
  ep_->queue().Unregister(w);
  if (it->second) UnixEndpoint::SpaceQueue().Unregister(w);
  waiters_.erase(it);
}

std::string UnixSocketFile::DisplayName() const { return "socket:[" + std::to_string(ino_) + "]"; }

}  // namespace palisade::net
