// `palisade gofer` (hidden): the file server of one sandbox, started by the
// front end (runsc/sandbox/gofer_launch.h) before the sentry. Everything
// it does is in gofer/server/gofer_main.h.
#include <memory>
#include <string>

#include "gofer/server/gofer_main.h"
#include "runsc/cli/commands.h"

namespace palisade::cli {
namespace {

struct GoferFlags {
  std::string rootfs;
  bool rootfs_writable = false;
  std::string binds_json = "[]";
  int sock_fd = -1;
  int report_fd = -1;
};

absl::StatusOr<int> Gofer(const GoferFlags& f) {
  gofer::GoferOptions o;
  o.rootfs = f.rootfs;
  o.rootfs_writable = f.rootfs_writable;
  o.sock_fd = f.sock_fd;
  o.report_fd = f.report_fd;
  if (f.sock_fd < 0) return absl::InvalidArgumentError("gofer: --sock-fd is required");
  absl::Status s = gofer::BindsFromJson(f.binds_json, &o.binds);
  if (!s.ok()) return s;
  s = gofer::RunGofer(o);
  if (!s.ok()) return s;
  return 0;
}

}  // namespace

CommandRunner SetupGofer(CLI::App& sub) {
  auto f = std::make_shared<GoferFlags>();
  sub.add_option("--rootfs", f->rootfs, "host path of the bundle's rootfs")->required();
  sub.add_flag("--rootfs-writable", f->rootfs_writable, "the sentry writes through to the rootfs");
  sub.add_option("--binds", f->binds_json, "bind mounts: JSON [{source, destination, readonly}]");
  sub.add_option("--sock-fd", f->sock_fd, "inherited fd: the server's end of the socketpair");
  sub.add_option("--report-fd", f->report_fd, "inherited fd: set-up result (\"ok\" or the error)");
  return [f](const CommandContext&) { return Gofer(*f); };
}

}  // namespace palisade::cli
