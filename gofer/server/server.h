// The gofer server: answers gofer protocol requests (gofer/proto/) for the
// files under one root directory, never anything outside it.
//
// Confinement. A file is only ever reached from a fid the server made:
// fids are O_PATH|O_NOFOLLOW host fds, the first from the root (Attach),
// each next one by opening ONE checked component (no "/", never "", "." or
// "..") relative to its directory's fd with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS). Symlinks are returned as
// symlinks and followed only by the sentry, in sandbox terms. So a symlink
// to "/", "../../..", an absolute link or /proc/self/root cannot take a
// walk out, and a directory swapped for a symlink between two requests
// makes the next walk fail (ELOOP/ENOTDIR) instead of following it: the fd
// of a directory names that inode, never a path.
//
// Files are reopened for I/O through the server's own /proc/self/fd
// directory (opened before pivot_root), which names exactly the inode of
// a fid, so a rename or swap of its path cannot redirect the open. Only
// regular files and directories are opened; device nodes never (EACCES),
// FIFOs and sockets never (ENXIO: the sentry has its own pipes).
//
// The server is single-threaded: one request, one reply, in order.
//
//   PAL_ASSIGN_OR_RETURN(auto server, gofer::Server::New(std::move(root_fd), std::move(proc_fd)));
//   return server->Serve(sock);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "base/errno.h"
#include "base/unique_fd.h"
#include "gofer/proto/gofer.pb.h"

namespace palisade::gofer {

class Server {
 public:
  // root: a directory fd (any kind) of the tree to serve. proc_self_fd: a
  // directory fd of /proc/self/fd of this process.
  static absl::StatusOr<std::unique_ptr<Server>> New(UniqueFd root, UniqueFd proc_self_fd);

  // Serves requests on sock until the client closes it (OK) or the socket
  // fails (error). Malformed requests get error replies, never a crash.
  absl::Status Serve(int sock);

  // One request packet in, one reply packet out (and maybe a donated fd).
  struct Reply {
    std::string data;
    UniqueFd fd;
  };
  Reply Handle(std::string_view request);

  size_t open_fids() const { return fids_.size(); }

  // The handlers (public so the dispatch table in server.cc can name them).
  using Req = proto::Request;
  using Resp = proto::Response;
  Errno Attach(const Req& r, Resp& out, UniqueFd& donate);
  Errno Walk(const Req& r, Resp& out, UniqueFd& donate);
  Errno Stat(const Req& r, Resp& out, UniqueFd& donate);
  Errno StatFs(const Req& r, Resp& out, UniqueFd& donate);
  Errno Open(const Req& r, Resp& out, UniqueFd& donate);
  Errno Create(const Req& r, Resp& out, UniqueFd& donate);
  Errno Mkdir(const Req& r, Resp& out, UniqueFd& donate);
  Errno Mknod(const Req& r, Resp& out, UniqueFd& donate);
  Errno Symlink(const Req& r, Resp& out, UniqueFd& donate);
  Errno Link(const Req& r, Resp& out, UniqueFd& donate);
  Errno Unlink(const Req& r, Resp& out, UniqueFd& donate);
  Errno Rename(const Req& r, Resp& out, UniqueFd& donate);
  Errno ReadDir(const Req& r, Resp& out, UniqueFd& donate);
  Errno ReadLink(const Req& r, Resp& out, UniqueFd& donate);
  Errno SetAttr(const Req& r, Resp& out, UniqueFd& donate);
  Errno Close(const Req& r, Resp& out, UniqueFd& donate);
  Errno GetXattr(const Req& r, Resp& out, UniqueFd& donate);
  Errno SetXattr(const Req& r, Resp& out, UniqueFd& donate);
  Errno ListXattr(const Req& r, Resp& out, UniqueFd& donate);
  Errno RemoveXattr(const Req& r, Resp& out, UniqueFd& donate);

 private:
  Server(UniqueFd root, UniqueFd proc_self_fd) : root_(std::move(root)), proc_fd_(std::move(proc_self_fd)) {}

  // The host fd of a fid, or -1.
  int FdOf(uint64_t fid) const;
  uint64_t AddFid(UniqueFd fd);
  // Opens one checked component below dir as a new O_PATH fd.
  ErrnoOr<UniqueFd> OpenComponent(int dir, std::string_view name) const;
  // Fills a Node (new fid + attributes) for name just created in dir,
  // owned by uid:gid with exactly `perm` permission bits.
  Errno FinishCreate(int dir, const std::string& name, uint32_t uid, uint32_t gid, uint32_t perm, bool is_link,
                     Resp& out);
  // A real (non-O_PATH) fd for the file of an O_PATH fd, via /proc/self/fd.
  ErrnoOr<UniqueFd> Reopen(int path_fd, int flags) const;
  Errno Chmod(int path_fd, uint32_t mode) const;

  UniqueFd root_;
  UniqueFd proc_fd_;
  absl::flat_hash_map<uint64_t, UniqueFd> fids_;
  uint64_t next_fid_ = 1;
};

// The name checks every handler applies to components from the client:
// ENOENT for "", "." and ".."; EINVAL for '/' or NUL; ENAMETOOLONG > 255.
Errno CheckComponent(std::string_view name);

}  // namespace palisade::gofer
