// Naming and connection setup of unix sockets: bind (pathname, abstract,
// autobind), the name tables connect/sendto search, listen, connect and
// accept, following net/unix/af_unix.c.
#include <poll.h>

#include <map>

#include "sentry/net/unix/unix_endpoint.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::net {
namespace {

constexpr int kMayWrite = 2;

// Sandbox-wide name tables, guarded by UnixLock(). Entries are removed
// when their socket closes; a pathname entry is keyed by the identity of
// the S_IFSOCK node bind created, so renaming or hard-linking the node
// keeps it reachable and unlinking it makes it unreachable, as in Linux.
std::map<std::string, std::weak_ptr<UnixEndpoint>>& AbstractNames() {
  static std::map<std::string, std::weak_ptr<UnixEndpoint>> m;
  return m;
}

template <typename Key>
std::map<Key, std::weak_ptr<UnixEndpoint>>& PathNames() {
  static std::map<Key, std::weak_ptr<UnixEndpoint>> m;
  return m;
}

// Linux hashes abstract names together with the socket type, so each
// type has its own abstract namespace; a connect to a name bound by
// another type finds nothing (ECONNREFUSED).
std::string AbstractKey(int type, const std::string& name) { return std::to_string(type) + ":" + name; }

bool AbstractTakenLocked(const std::string& key) {
  auto it = AbstractNames().find(key);
  return it != AbstractNames().end() && !it->second.expired();
}

}  // namespace

void UnixEndpoint::DropNamesLocked() {
  if (!bound_) return;
  if (addr_.kind == UnixAddress::Kind::kAbstract) {
    auto it = AbstractNames().find(AbstractKey(type_, addr_.name));
    if (it != AbstractNames().end() && it->second.lock().get() == this) AbstractNames().erase(it);
  }
  if (path_key_) {
    auto& m = PathNames<InodeKey>();
    auto it = m.find(*path_key_);
    if (it != m.end() && it->second.lock().get() == this) m.erase(it);
  }
}

void UnixEndpoint::AutobindLocked() {
  if (bound_) return;
  std::string name;
  do {
    name = NextAutobindName();
  } while (AbstractTakenLocked(AbstractKey(type_, name)));
  addr_ = UnixAddress{UnixAddress::Kind::kAbstract, name};
  AbstractNames()[AbstractKey(type_, name)] = weak_from_this();
  bound_ = true;
}

void UnixEndpoint::AutobindIfNeeded() {
  std::lock_guard<std::mutex> l(UnixLock());
  AutobindLocked();
}

Errno UnixEndpoint::Bind(const vfs::PathContext& ctx, const UnixAddress& addr) {
  {
    std::lock_guard<std::mutex> l(UnixLock());
    if (bound_ || closed_) return Errno(EINVAL);
    if (addr.unnamed()) {
      AutobindLocked();
      return Errno::Ok();
    }
    if (addr.kind == UnixAddress::Kind::kAbstract) {
      if (AbstractTakenLocked(AbstractKey(type_, addr.name))) return Errno(EADDRINUSE);
      AbstractNames()[AbstractKey(type_, addr.name)] = weak_from_this();
      addr_ = addr;
      bound_ = true;
      return Errno::Ok();
    }
  }
  // A pathname: the socket node is made like mknod(S_IFSOCK | 0777 &
  // ~umask); an existing file of any kind is EADDRINUSE.
  if (addr.name.empty()) return Errno(ENOENT);
  Errno e = vfs::Mknodat(ctx, AT_FDCWD, addr.name, S_IFSOCK | 0777, 0);
  if (e == Errno(EEXIST)) return Errno(EADDRINUSE);
  PAL_TRY_ERRNO(e);
  PAL_TRY(vfs::ResolvedNode node, vfs::ResolveNode(ctx, AT_FDCWD, addr.name, {.follow = false}));
  InodeKey key{node.path.dentry->inode()->FsId(), node.attr.dev, node.attr.ino};
  std::lock_guard<std::mutex> l(UnixLock());
  if (bound_ || closed_) return Errno(EINVAL);  // lost a race with another bind
  PathNames<InodeKey>()[key] = weak_from_this();
  path_key_ = key;
  addr_ = addr;
  bound_ = true;
  return Errno::Ok();
}

ErrnoOr<std::shared_ptr<UnixEndpoint>> LookupUnixEndpoint(const vfs::PathContext& ctx, const UnixAddress& addr,
                                                          int type) {
  if (addr.kind == UnixAddress::Kind::kAbstract) {
    std::lock_guard<std::mutex> l(UnixLock());
    auto it = AbstractNames().find(AbstractKey(type, addr.name));
    std::shared_ptr<UnixEndpoint> ep = it == AbstractNames().end() ? nullptr : it->second.lock();
    if (!ep || ep->closed_) return Errno(ECONNREFUSED);
    return ep;
  }
  if (addr.kind != UnixAddress::Kind::kPath || addr.name.empty()) return Errno(EINVAL);
  PAL_TRY(vfs::ResolvedNode node, vfs::ResolveNode(ctx, AT_FDCWD, addr.name, {.follow = true}));
  PAL_TRY_ERRNO(vfs::CheckPermission(ctx.creds, node.attr, kMayWrite));
  if (!S_ISSOCK(node.attr.mode)) return Errno(ECONNREFUSED);
  UnixEndpoint::InodeKey key{node.path.dentry->inode()->FsId(), node.attr.dev, node.attr.ino};
  std::lock_guard<std::mutex> l(UnixLock());
  auto& m = PathNames<UnixEndpoint::InodeKey>();
  auto it = m.find(key);
  std::shared_ptr<UnixEndpoint> ep = it == m.end() ? nullptr : it->second.lock();
  if (!ep || ep->closed_) return Errno(ECONNREFUSED);
  return ep;
}

Errno UnixEndpoint::Listen(int backlog, const struct ucred& creds) {
  if (type_ == SOCK_DGRAM) return Errno(EOPNOTSUPP);
  std::lock_guard<std::mutex> l(UnixLock());
  if (!bound_) return Errno(EINVAL);
  if (state_ == State::kConnected) return Errno(EINVAL);
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(kSomaxconn)) backlog = kSomaxconn;
  backlog_max_ = backlog;
  state_ = State::kListening;
  peercred_ = creds;
  has_peercred_ = true;
  SpaceQueue().Notify(kEventAll);  // a larger backlog may admit waiting connectors
  return Errno::Ok();
}

Errno UnixEndpoint::ConnectStream(const std::shared_ptr<UnixEndpoint>& target, const struct ucred& creds) {
  std::lock_guard<std::mutex> l(UnixLock());
  if (state_ == State::kConnected) return Errno(EISCONN);
  if (state_ == State::kListening) return Errno(EINVAL);
  if (target->type_ != type_) return Errno(EPROTOTYPE);
  if (target->closed_ || target->state_ != State::kListening || (target->shutdown_ & 1)) {
    return Errno(ECONNREFUSED);
  }
  if (static_cast<int>(target->backlog_.size()) > target->backlog_max_) return Errno(EAGAIN);
  if (passcred_) AutobindLocked();
  auto server = std::shared_ptr<UnixEndpoint>(new UnixEndpoint(type_));
  server->state_ = State::kConnected;
  server->embryo_ = true;
  server->addr_ = target->addr_;
  server->peer_ = shared_from_this();
  server->peercred_ = creds;
  server->has_peercred_ = true;
  server->passcred_ = target->passcred_;
  server->sndbuf_ = target->sndbuf_;
  server->rcvbuf_ = target->rcvbuf_;
  peer_ = server;
  peercred_ = target->peercred_;
  has_peercred_ = true;
  state_ = State::kConnected;
  target->backlog_.push_back(std::move(server));
  target->queue_.Notify(POLLIN | POLLRDNORM);
  queue_.Notify(kEventAll);
  return Errno::Ok();
}

Errno UnixEndpoint::ConnectDgram(const std::shared_ptr<UnixEndpoint>& target) {
  std::lock_guard<std::mutex> l(UnixLock());
  if (!target) {  // AF_UNSPEC: dissolve the association
    peer_.reset();
    state_ = State::kUnconnected;
    queue_.Notify(kEventAll);
    return Errno::Ok();
  }
  if (target->type_ != type_) return Errno(EPROTOTYPE);
  if (target->closed_) return Errno(ECONNREFUSED);
  if (target->peer_ && target->peer_.get() != this) return Errno(EPERM);  // unix_may_send
  if (passcred_) AutobindLocked();
  peer_ = target;
  state_ = State::kConnected;
  queue_.Notify(kEventAll);
  return Errno::Ok();
}

ErrnoOr<std::shared_ptr<UnixEndpoint>> UnixEndpoint::Accept() {
  std::lock_guard<std::mutex> l(UnixLock());
  if (type_ == SOCK_DGRAM) return Errno(EOPNOTSUPP);
  if (state_ != State::kListening) return Errno(EINVAL);
  if (backlog_.empty()) return Errno(EAGAIN);
  std::shared_ptr<UnixEndpoint> s = std::move(backlog_.front());
  backlog_.pop_front();
  s->embryo_ = false;
  s->passcred_ = passcred_;  // unix_sock_inherit_flags()
  SpaceQueue().Notify(kEventAll);
  return s;
}

}  // namespace palisade::net
