#include "sentry/boot_mounts.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "sentry/fsimpl/dev/devfs.h"
#include "sentry/fsimpl/gofer/gofer_fs.h"
#include "sentry/fsimpl/gofer/page_cache_retention.h"
#include "sentry/fsimpl/overlay/overlay.h"
#include "sentry/fsimpl/devpts/devpts.h"
#include "sentry/fsimpl/devpts/terminal.h"
#include "sentry/fsimpl/proc/procfs.h"
#include "sentry/fsimpl/tmpfs/tmpfs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade {
namespace {

struct MountFlagName {
  const char* name;
  int set;
  int clear;
};
// config.json mount options the sentry understands; others are ignored
// with a debug line (e.g. "rbind", "rprivate": propagation is moot here).
constexpr MountFlagName kFlags[] = {
    {"ro", MS_RDONLY, 0},     {"rw", 0, MS_RDONLY},       {"nosuid", MS_NOSUID, 0}, {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},   {"dev", 0, MS_NODEV},       {"noexec", MS_NOEXEC, 0}, {"exec", 0, MS_NOEXEC},
    {"relatime", 0, 0},       {"noatime", 0, 0},          {"strictatime", 0, 0},    {"bind", 0, 0},
    {"rbind", 0, 0},          {"private", 0, 0},          {"rprivate", 0, 0},       {"slave", 0, 0},
    {"rslave", 0, 0},         {"shared", 0, 0},           {"rshared", 0, 0},
};

struct ParsedOptions {
  int flags = 0;
  uint32_t mode = 0755;
};

ParsedOptions ParseOptions(const std::vector<std::string>& opts, uint32_t default_mode) {
  ParsedOptions p;
  p.mode = default_mode;
  for (const auto& o : opts) {
    bool known = false;
    for (const auto& f : kFlags) {
      if (o == f.name) {
        p.flags = (p.flags | f.set) & ~f.clear;
        known = true;
      }
    }
    if (!known && o.rfind("mode=", 0) == 0) {
      uint32_t m;
      if (absl::numbers_internal::safe_strtou32_base(o.substr(5), &m, 8)) p.mode = m & 07777;
      known = true;
    }
    if (!known) spdlog::debug("mount option \"{}\" ignored", o);
  }
  return p;
}

}  // namespace

void MkdirAll(const vfs::PathContext& ctx, const std::string& path) {
  std::string sofar;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    absl::StrAppend(&sofar, "/", part);
    (void)vfs::Mkdirat(ctx, AT_FDCWD, sofar, 0755);
  }
}

namespace {

// Resolves (creating if needed, as runc does) the mountpoint directory.
absl::StatusOr<VirtualPath> Mountpoint(const vfs::PathContext& ctx, const std::string& dest) {
  auto p = vfs::Resolve(ctx, AT_FDCWD, dest, {.follow = true});
  if (!p.ok() && p.error() == Errno(ENOENT)) {
    MkdirAll(ctx, dest);
    p = vfs::Resolve(ctx, AT_FDCWD, dest, {.follow = true});
  }
  if (!p.ok()) return absl::InvalidArgumentError(absl::StrCat("mount destination \"", dest, "\": ", p.error().Name()));
  return *p;
}

// /dev for this sandbox. With process.terminal, /dev/tty is only ever the
// opener's controlling terminal (a sandbox pty, console_relay.h), never
// the host tty the relay reads: a process that left the session gets ENXIO.
dev::DevfsOptions DevfsOptionsFor(const BootConfig& cfg) {
  dev::DevfsOptions o;
  o.tty_host_fd = cfg.terminal ? -1 : dev::kFindTtyInStdio;
  o.pts = devpts::Root();
  o.ctty_opener = [](const OpenRequest& req) -> ErrnoOr<FileRef> {
    if (!req.task) return FileRef();
    std::shared_ptr<Terminal> ctty;
    {
      std::lock_guard<std::mutex> l(req.task->kernel().mu());
      ctty = req.task->thread_group().ctty;
    }
    if (!ctty) return FileRef();
    return devpts::OpenReplica(ctty, req.task, req.flags | O_NOCTTY);
  };
  return o;
}

absl::StatusOr<InodeRef> FilesystemFor(Kernel& k, const BootMount& m, const ParsedOptions& o,
                                       const std::shared_ptr<gofer::Client>& client,
                                       const dev::DevfsOptions& devfs) {
  if (m.type == "proc") return procfs::NewProcfsRoot(k);
  // runc's default spec mounts a tmpfs on /dev and fills it with device
  // nodes; the sentry serves its own devfs there instead.
  if (m.destination == "/dev" && (m.type == "tmpfs" || m.type == "devtmpfs")) return dev::NewDevfsRoot(devfs);
  // One devpts per sandbox: a devpts mount shows the same ptys as devfs's /dev/pts.
  if (m.type == "devpts") return devpts::Root();
  if (m.type == "tmpfs" || m.type == "mqueue" || m.type == "shm") {
    return tmpfs::NewTmpfsRoot(S_IFDIR | (m.type == "tmpfs" ? o.mode : 0755), 0, 0);
  }
  if (m.type == "sysfs") {
    // A read-only empty directory until sysfs is implemented.
    return tmpfs::NewTmpfsRoot(S_IFDIR | 0555, 0, 0);
  }
  if (m.is_bind()) {
    // The gofer bind-mounted the source at the destination in its own
    // view of the rootfs; written through, no overlay, as under runc.
    return gofer::NewGoferRoot(client, m.destination, o.flags & MS_RDONLY);
  }
  return absl::InvalidArgumentError(absl::StrCat("mount \"", m.destination, "\": unsupported type \"", m.type, "\""));
}

// The container's "/": the gofer's export of the rootfs, under an overlay
// with an in-memory upper layer unless --overlay=none.
absl::StatusOr<InodeRef> RootFilesystem(const BootConfig& cfg, const std::shared_ptr<gofer::Client>& client) {
  gofer::SetPageCacheRetention(cfg.page_cache_retention);
  if (cfg.overlay == RootOverlay::kNone) {
    return gofer::NewGoferRoot(client, "/", cfg.root_readonly, gofer::NameCache::kOn);
  }
  PAL_ASSIGN_OR_RETURN(InodeRef lower,
                       gofer::NewGoferRoot(client, "/", /*readonly=*/true, gofer::NameCache::kOn));
  return overlay::NewOverlayRoot(std::move(lower));
}

}  // namespace

absl::Status SetUpMounts(Kernel& k, const BootConfig& cfg, const vfs::PathContext& base_ctx) {
  if (cfg.gofer_fd < 0) return absl::FailedPreconditionError("no gofer connection: the rootfs is served by `palisade gofer`");
  UniqueFd sock(fcntl(cfg.gofer_fd, F_DUPFD_CLOEXEC, 0));
  if (!sock.ok()) return ErrnoStatus(errno, "dup", "gofer socket");
  auto client = std::make_shared<gofer::Client>(std::move(sock));
  auto root = RootFilesystem(cfg, client);
  if (!root.ok()) return absl::InvalidArgumentError(absl::StrCat("rootfs \"", cfg.rootfs, "\": ", root.status().message()));
  auto root_mount = std::make_shared<Mount>(*root, nullptr, nullptr, "rootfs", "/", cfg.root_readonly ? MS_RDONLY : 0);
  auto ns = std::make_shared<vfs::MountNamespace>(root_mount);
  vfs::SetGlobalMountNamespace(ns);
  k.set_mount_namespace(ns);

  vfs::PathContext ctx = base_ctx;
  ctx.root = ctx.cwd = ns->RootPath();
  bool have_dev = false;
  for (const auto& m : cfg.mounts) {
    if (m.destination.empty() || m.destination[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("mount destination \"", m.destination, "\" must be absolute"));
    }
    if (m.type == "cgroup" || m.type == "cgroup2") {
      spdlog::debug("mount {}: cgroup filesystems are not served in the sandbox; skipped", m.destination);
      continue;
    }
    ParsedOptions o = ParseOptions(m.options, 0755);
    auto fs = FilesystemFor(k, m, o, client, DevfsOptionsFor(cfg));
    if (!fs.ok()) return fs.status();
    auto at = Mountpoint(ctx, m.destination);
    if (!at.ok()) {
      // A read-only rootfs may lack the directory; runc would fail too.
      return at.status();
    }
    std::string fstype = m.destination == "/dev" ? "devtmpfs" : (m.type == "bind" ? "bind" : m.type);
    auto r = ns->AddMount(*at, *fs, fstype, m.source.empty() ? m.type : m.source, o.flags);
    if (!r.ok()) return absl::InternalError(absl::StrCat("mount \"", m.destination, "\": ", r.error().Name()));
    have_dev |= m.destination == "/dev";
  }
  if (!have_dev) {
    // Programs expect /dev/null even when config.json mounts no /dev.
    auto at = vfs::Resolve(ctx, AT_FDCWD, "/dev", {.follow = true});
    if (at.ok()) (void)ns->AddMount(*at, dev::NewDevfsRoot(DevfsOptionsFor(cfg)), "devtmpfs", "devtmpfs", 0);
  }
  return absl::OkStatus();
}

}  // namespace palisade
