// Request dispatch, the fid table and the serving loop (see server.h).
#include "gofer/server/server.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gofer/proto/framing.h"
#include "spdlog/spdlog.h"

namespace palisade::gofer {
namespace {

using Handler = Errno (Server::*)(const proto::Request&, proto::Response&, UniqueFd&);

struct Op {
  proto::Request::OpCase op;
  const char* name;
  Handler handler;
};

// The operations of protocol version 1, by oneof case.
constexpr Op kOps[] = {
    {proto::Request::kAttach, "attach", &Server::Attach},
    {proto::Request::kWalk, "walk", &Server::Walk},
    {proto::Request::kStat, "stat", &Server::Stat},
    {proto::Request::kStatfs, "statfs", &Server::StatFs},
    {proto::Request::kOpen, "open", &Server::Open},
    {proto::Request::kCreate, "create", &Server::Create},
    {proto::Request::kMkdir, "mkdir", &Server::Mkdir},
    {proto::Request::kMknod, "mknod", &Server::Mknod},
    {proto::Request::kSymlink, "symlink", &Server::Symlink},
    {proto::Request::kLink, "link", &Server::Link},
    {proto::Request::kUnlink, "unlink", &Server::Unlink},
    {proto::Request::kRename, "rename", &Server::Rename},
    {proto::Request::kReaddir, "readdir", &Server::ReadDir},
    {proto::Request::kReadlink, "readlink", &Server::ReadLink},
    {proto::Request::kSetattr, "setattr", &Server::SetAttr},
    {proto::Request::kClose, "close", &Server::Close},
    {proto::Request::kGetxattr, "getxattr", &Server::GetXattr},
    {proto::Request::kSetxattr, "setxattr", &Server::SetXattr},
    {proto::Request::kListxattr, "listxattr", &Server::ListXattr},
    {proto::Request::kRemovexattr, "removexattr", &Server::RemoveXattr},
};

// More fids than this and the client is leaking (or hostile): ENFILE.
constexpr size_t kMaxFids = 1 << 20;

Server::Reply ErrorReply(int err, std::string text) {
  proto::Response resp;
  resp.set_version(proto::VERSION_CURRENT);
  resp.set_errno_value(err);
  resp.set_error(std::move(text));
  return {resp.SerializeAsString(), UniqueFd()};
}

}  // namespace

Errno CheckComponent(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return Errno(ENOENT);
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) return Errno(EINVAL);
  if (name.size() > 255) return Errno(ENAMETOOLONG);
  return Errno::Ok();
}

absl::StatusOr<std::unique_ptr<Server>> Server::New(UniqueFd root, UniqueFd proc_self_fd) {
  struct stat st;
  if (fstat(root.get(), &st) != 0) return ErrnoStatus(errno, "fstat", "gofer root");
  if (!S_ISDIR(st.st_mode)) return absl::InvalidArgumentError("gofer root is not a directory");
  if (fstat(proc_self_fd.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError("gofer: /proc/self/fd is not an open directory");
  }
  return std::unique_ptr<Server>(new Server(std::move(root), std::move(proc_self_fd)));
}

int Server::FdOf(uint64_t fid) const {
  auto it = fids_.find(fid);
  return it == fids_.end() ? -1 : it->second.get();
}

uint64_t Server::AddFid(UniqueFd fd) {
  uint64_t fid = next_fid_++;
  fids_.emplace(fid, std::move(fd));
  return fid;
}

ErrnoOr<UniqueFd> Server::OpenComponent(int dir, std::string_view name) const {
  PAL_TRY_ERRNO(CheckComponent(name));
  std::string n(name);
  struct open_how how {};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, dir, n.c_str(), &how, sizeof(how));
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: one checked component with O_NOFOLLOW is as safe.
    fd = openat(dir, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) return Errno::FromHost();
  return UniqueFd(static_cast<int>(fd));
}

ErrnoOr<UniqueFd> Server::Reopen(int path_fd, int flags) const {
  struct stat want;
  if (fstat(path_fd, &want) != 0) return Errno::FromHost();
  std::string name = std::to_string(path_fd);
  // O_NONBLOCK: never hang in open; the fd is only used with p{read,write}.
  UniqueFd fd(openat(proc_fd_.get(), name.c_str(), flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.ok()) return Errno::FromHost();
  struct stat got;
  if (fstat(fd.get(), &got) != 0) return Errno::FromHost();
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) return Errno(ESTALE);
  return fd;
}

Server::Reply Server::Handle(std::string_view request) {
  proto::Request req;
  if (!req.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
    return ErrorReply(EBADMSG, "malformed request: not a gofer.proto Request");
  }
  if (req.version() != proto::VERSION_CURRENT) {
    return ErrorReply(EPROTO, absl::StrCat("protocol version ", req.version(), " is not supported (server speaks ",
                                           static_cast<int>(proto::VERSION_CURRENT), ")"));
  }
  const Op* op = nullptr;
  for (const Op& o : kOps) {
    if (o.op == req.op_case()) op = &o;
  }
  if (!op) return ErrorReply(ENOSYS, "unknown operation (no known op field set)");
  if (fids_.size() >= kMaxFids && op->op != proto::Request::kClose) {
    return ErrorReply(ENFILE, "too many open fids");
  }
  proto::Response resp;
  resp.set_version(proto::VERSION_CURRENT);
  UniqueFd donate;
  Errno e = (this->*(op->handler))(req, resp, donate);
  if (!e.ok()) {
    proto::Response err;
    err.set_version(proto::VERSION_CURRENT);
    err.set_errno_value(e.value());
    if (e == Errno(EBADF)) err.set_error(absl::StrCat(op->name, ": unknown fid"));
    return {err.SerializeAsString(), UniqueFd()};
  }
  return {resp.SerializeAsString(), std::move(donate)};
}

absl::Status Server::Serve(int sock) {
  for (;;) {
    auto p = RecvPacket(sock);
    if (!p.ok()) {
      Errno e = p.error();
      if (e == Errno(ENOTCONN) || e == Errno(ECONNRESET)) return absl::OkStatus();
      if (e == Errno(EMSGSIZE)) {
        // Too big or fds attached: answer, keep serving.
        Reply r = ErrorReply(EMSGSIZE, "request too large or carries fds");
        if (Errno s = SendPacket(sock, r.data); !s.ok()) return ErrnoStatus(s.value(), "send", "gofer reply");
        continue;
      }
      return ErrnoStatus(e.value(), "receive", "gofer request");
    }
    Reply r = Handle(p->data);
    if (r.data.size() > kMaxPacket) r = ErrorReply(EMSGSIZE, "reply too large");
    Errno s = SendPacket(sock, r.data, r.fd.get());
    if (s == Errno(EPIPE) || s == Errno(ECONNRESET)) return absl::OkStatus();
    if (!s.ok()) return ErrnoStatus(s.value(), "send", "gofer reply");
  }
}

}  // namespace palisade::gofer
