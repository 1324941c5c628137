#include "gofer/server/gofer_main.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "gofer/server/gofer_filter.h"
#include "gofer/server/server.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace palisade::gofer {
namespace {

constexpr char kStaging[] = "/proc";
constexpr char kNewRoot[] = "/proc/root";

// What file serving needs for a root container: set any owner, bypass
// permission checks the sentry already made in sandbox terms, keep
// setuid/setgid bits. Everything else (CAP_SYS_ADMIN above all) goes.
constexpr int kKeptCaps[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID};

absl::Status Mount(const std::string& src, const std::string& dst, const char* type, unsigned long flags,
                   const char* data = nullptr) {
  if (mount(src.empty() ? nullptr : src.c_str(), dst.c_str(), type, flags, data) != 0) {
    return ErrnoStatus(errno, absl::StrCat("mount ", src.empty() ? "(none)" : src, " on"), dst);
  }
  return absl::OkStatus();
}

// Creates dest (and its parents) under root without following symlinks,
// as a directory, or an empty file when the bind source is a file.
absl::Status MakeMountpoint(const std::string& root, const std::string& dest, bool is_file) {
  std::vector<std::string> parts = absl::StrSplit(dest, '/', absl::SkipEmpty());
  if (parts.empty()) return absl::InvalidArgumentError("bind mount on \"/\" is not supported");
  UniqueFd cur(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur.ok()) return ErrnoStatus(errno, "open", root);
  for (size_t i = 0; i < parts.size(); i++) {
    const std::string& p = parts[i];
    if (p == "." || p == "..") return absl::InvalidArgumentError(absl::StrCat("bind destination \"", dest, "\": \"..\""));
    const bool last = i + 1 == parts.size();
    if (last && is_file) {
      UniqueFd f(openat(cur.get(), p.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!f.ok() && errno != EISDIR) return ErrnoStatus(errno, "create mountpoint", dest);
      return absl::OkStatus();
    }
    if (mkdirat(cur.get(), p.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir mountpoint", dest);
    }
    UniqueFd next(openat(cur.get(), p.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.ok()) {
      return ErrnoStatus(errno, "bind destination (symlinks in mount destinations are not supported)", dest);
    }
    cur = std::move(next);
  }
  return absl::OkStatus();
}

absl::Status SetUpMounts(const GoferOptions& o) {
  if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) return ErrnoStatus(errno, "unshare", "mount+net namespaces");
  // Nothing done here may propagate back to the host.
  PAL_RETURN_IF_ERROR(Mount("", "/", nullptr, MS_REC | MS_PRIVATE));
  // Staging as runsc's gofer does: works even for a rootfs of "/".
  PAL_RETURN_IF_ERROR(Mount("tmpfs", kStaging, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700"));
  if (mkdir(kNewRoot, 0755) != 0) return ErrnoStatus(errno, "mkdir", kNewRoot);
  PAL_RETURN_IF_ERROR(Mount(o.rootfs, kNewRoot, nullptr, MS_BIND | MS_REC));
  for (const GoferBind& b : o.binds) {
    struct stat st;
    if (stat(b.source.c_str(), &st) != 0) return ErrnoStatus(errno, "bind mount source", b.source);
    PAL_RETURN_IF_ERROR(MakeMountpoint(kNewRoot, b.destination, !S_ISDIR(st.st_mode)));
    const std::string at = absl::StrCat(kNewRoot, b.destination);
    PAL_RETURN_IF_ERROR(Mount(b.source, at, nullptr, MS_BIND | MS_REC));
    if (b.readonly) PAL_RETURN_IF_ERROR(Mount("", at, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY));
  }
  if (!o.rootfs_writable) {
    // The sentry keeps changes in memory (or the root is read-only): the
    // host's copy cannot be written even by a confused gofer.
    PAL_RETURN_IF_ERROR(Mount("", kNewRoot, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY));
  }
  if (chdir(kNewRoot) != 0) return ErrnoStatus(errno, "chdir", kNewRoot);
  if (syscall(SYS_pivot_root, ".", ".") != 0) return ErrnoStatus(errno, "pivot_root", o.rootfs);
  if (umount2(".", MNT_DETACH) != 0) return ErrnoStatus(errno, "detach old root", "/");
  if (chdir("/") != 0) return ErrnoStatus(errno, "chdir", "/");
  return absl::OkStatus();
}

absl::Status DropCapabilities() {
  uint64_t keep = 0;
  for (int c : kKeptCaps) keep |= 1ull << c;
  for (int c = 0; c <= 63; c++) {
    if (keep & (1ull << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) return ErrnoStatus(errno, "drop capability");
  }
  struct __user_cap_header_struct hdr {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return ErrnoStatus(errno, "capget");
  for (int i = 0; i < 2; i++) {
    uint32_t k = static_cast<uint32_t>(keep >> (32 * i));
    data[i].effective &= k;
    data[i].permitted &= k;
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &hdr, data) != 0) return ErrnoStatus(errno, "capset");
  // Ambient capabilities would survive; none are wanted.
  (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoStatus(errno, "no_new_privs");
  return absl::OkStatus();
}

void Report(int fd, const std::string& msg) {
  if (fd < 0) return;
  std::string line = msg + "\n";
  (void)!write(fd, line.data(), line.size());
}

absl::Status SetUp(const GoferOptions& o, UniqueFd& root, UniqueFd& proc) {
  if (o.rootfs.empty() || o.rootfs[0] != '/') return absl::InvalidArgumentError("gofer: --rootfs must be absolute");
  proc.reset(open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc.ok()) return ErrnoStatus(errno, "open", "/proc/self/fd");
  PAL_RETURN_IF_ERROR(SetUpMounts(o));
  root.reset(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.ok()) return ErrnoStatus(errno, "open", "/ (the rootfs)");
  // One O_PATH fd per file the sandbox holds: allow as many as the host does.
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  PAL_RETURN_IF_ERROR(DropCapabilities());
  return InstallGoferFilter();
}

}  // namespace

absl::Status RunGofer(const GoferOptions& o) {
  UniqueFd root, proc;
  absl::Status s = SetUp(o, root, proc);
  if (!s.ok()) {
    Report(o.report_fd, absl::StrCat("gofer: ", s.message()));
    return s;
  }
  auto server = Server::New(std::move(root), std::move(proc));
  if (!server.ok()) {
    Report(o.report_fd, absl::StrCat("gofer: ", server.status().message()));
    return server.status();
  }
  Report(o.report_fd, "ok");
  if (o.report_fd >= 0) close(o.report_fd);
  return (*server)->Serve(o.sock_fd);
}

std::string BindsToJson(const std::vector<GoferBind>& binds) {
  nlohmann::json j = nlohmann::json::array();
  for (const GoferBind& b : binds) {
    j.push_back({{"source", b.source}, {"destination", b.destination}, {"readonly", b.readonly}});
  }
  return j.dump();
}

absl::Status BindsFromJson(const std::string& json, std::vector<GoferBind>* binds) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return absl::InvalidArgumentError("gofer: --binds must be a JSON array");
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("source") || !e.contains("destination") || !e["source"].is_string() ||
        !e["destination"].is_string()) {
      return absl::InvalidArgumentError("gofer: each bind needs string \"source\" and \"destination\"");
    }
    GoferBind b{e["source"].get<std::string>(), e["destination"].get<std::string>(),
                e.value("readonly", false)};
    if (b.destination.empty() || b.destination[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("gofer: bind destination \"", b.destination, "\" must be absolute"));
    }
    binds->push_back(std::move(b));
  }
  return absl::OkStatus();
}

}  // namespace palisade::gofer
