#include "runsc/sandbox/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "sentry/control/boot_config_json.h"

namespace palisade::sandbox {
namespace {

// Fixed fd numbers in the boot process, above stdio.
constexpr int kConfigFd = 3, kControlFd = 4, kReadyFd = 5, kGoferFd = 6;

absl::StatusOr<int> BindControlSocket(const std::string& path) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("state directory path too long for a unix socket: ", path));
  }
  memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket");
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 ||
      chmod(path.c_str(), 0600) != 0 || listen(fd, 16) != 0) {
    int e = errno;
    close(fd);
    return ErrnoStatus(e, "bind control socket", path);
  }
  return fd;
}

absl::StatusOr<int> ConfigMemfd(const BootConfig& cfg) {
  int fd = memfd_create("palisade-boot-config", MFD_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "memfd_create");
  std::string text = BootConfigToJson(cfg);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      int e = errno;
      close(fd);
      return ErrnoStatus(e, "write boot config");
    }
    done += static_cast<size_t>(n);
  }
  return fd;
}

// In the child between clone and exec: only async-signal-safe calls.
[[noreturn]] void ChildFail(int ready_fd, const char* what) {
  int e = errno;
  char msg[256];
  int n = snprintf(msg, sizeof(msg), "sandbox process: %s: %s", what, strerror(e));
  if (n > 0) (void)!write(ready_fd, msg, static_cast<size_t>(n));
  _exit(1);
}

std::string ReadReady(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out == "ok\n") return out;
  }
}

}  // namespace

uint64_t ProcessStartTime(pid_t pid) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (pid <= 0 || !std::getline(f, line)) return 0;
  // Fields after the command name, which may contain spaces: ") S ppid ...".
  size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(line.substr(close + 2), ' ');
  // field 3 (state) is fields[0]; field 22 (starttime) is fields[19].
  if (fields.size() < 20) return 0;
  if (fields[0] == "Z" || fields[0] == "X") return 0;  // dead, not yet reaped
  return std::strtoull(fields[19].c_str(), nullptr, 10);
}

bool SandboxAlive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  uint64_t now = ProcessStartTime(pid);
  return now != 0 && (start_time == 0 || now == start_time);
}

absl::StatusOr<SpawnedSandbox> SpawnSandbox(const SpawnOptions& opts) {
  PAL_ASSIGN_OR_RETURN(int control_fd, BindControlSocket(opts.control_socket));
  absl::Cleanup close_control = [control_fd] { close(control_fd); };
  BootConfig cfg = opts.config;
  cfg.gofer_fd = opts.gofer_fd >= 0 ? kGoferFd : -1;
  PAL_ASSIGN_OR_RETURN(int config_fd, ConfigMemfd(cfg));
  absl::Cleanup close_config = [config_fd] { close(config_fd); };
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  int ready_write = ready[1];
  absl::Cleanup close_ready = [&] {
    close(ready[0]);
    if (ready_write >= 0) close(ready_write);
  };

  // Namespaces to create come as clone flags; joined ones are opened now.
  int clone_flags = 0;
  std::vector<std::pair<int, int>> join;  // (fd, flag)
  absl::Cleanup close_join = [&] {
    for (auto& [fd, flag] : join) close(fd);
  };
  for (const NamespaceRequest& ns : opts.namespaces) {
    if (ns.path.empty()) {
      clone_flags |= ns.clone_flag;
      continue;
    }
    int fd = open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open namespace", ns.path);
    join.emplace_back(fd, ns.clone_flag);
  }
  // Joining a PID namespace only affects children: join it here, around
  // the clone, and come back after.
  int own_pidns = -1;
  for (auto& [fd, flag] : join) {
    if (flag != CLONE_NEWPID) continue;
    own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pidns < 0) return ErrnoStatus(errno, "open /proc/self/ns/pid");
    if (setns(fd, CLONE_NEWPID) != 0) {
      int e = errno;
      close(own_pidns);
      return ErrnoStatus(e, "join pid namespace");
    }
  }
  std::vector<int> cgroup_fds;
  absl::Cleanup close_cgroups = [&] {
    for (int fd : cgroup_fds) close(fd);
  };
  for (const std::string& f : opts.cgroup_procs_files) {
    int fd = open(f.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open", f);
    cgroup_fds.push_back(fd);
  }

  // argv for the child, built before the clone (no allocation after it).
  std::vector<std::string> args = {"palisade"};
  args.insert(args.end(), opts.global_args.begin(), opts.global_args.end());
  args.insert(args.end(), {"boot", absl::StrCat("--config-fd=", kConfigFd),
                           absl::StrCat("--control-fd=", kControlFd),
                           absl::StrCat("--ready-fd=", kReadyFd)});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int stdio[3] = {opts.stdio[0], opts.stdio[1], opts.stdio[2]};
  int gofer_fd = opts.gofer_fd;

  // fork() semantics (no new stack) plus new namespaces.
  long pid = syscall(SYS_clone, static_cast<unsigned long>(clone_flags | SIGCHLD), nullptr, nullptr,
                     nullptr, nullptr);
  if (pid == 0) {
    // Child. Move fds into place without clobbering each other: first dup
    // everything above the fixed range, then onto it.
    int wr = ready[1];
    for (auto& [fd, flag] : join) {
      if (flag != CLONE_NEWPID && setns(fd, flag) != 0) ChildFail(wr, "join namespace");
    }
    for (int fd : cgroup_fds) {
      if (write(fd, "0", 1) != 1) ChildFail(wr, "join cgroup");
    }
    if (setsid() < 0) ChildFail(wr, "setsid");
    int moved[7] = {stdio[0], stdio[1], stdio[2], config_fd, control_fd, wr, gofer_fd};
    for (int& fd : moved) {
      if (fd < 0) continue;
      fd = fcntl(fd, F_DUPFD_CLOEXEC, 10);
      if (fd < 0) ChildFail(wr, "dup");
    }
    wr = moved[5];
    for (int target = 0; target < 7; target++) {
      if (moved[target] < 0) {
        close(target);
        continue;
      }
      if (dup2(moved[target], target) < 0) ChildFail(wr, "dup2");
    }
    // Everything else stays behind (close_range is Linux 5.9+; the fds
    // are close-on-exec in any case).
    syscall(SYS_close_range, 7, ~0U, 0);
    // Die with the front end that runs us until we are at the barrier?
    // No: `create` returns and leaves us running, as runc's init.
    execv("/proc/self/exe", argv.data());
    ChildFail(kReadyFd, "exec /proc/self/exe");
  }
  int clone_errno = errno;
  if (own_pidns >= 0) {
    setns(own_pidns, CLONE_NEWPID);
    close(own_pidns);
  }
  if (pid < 0) return ErrnoStatus(clone_errno, "clone the sandbox process");
  close(ready_write);
  ready_write = -1;
  std::string msg = ReadReady(ready[0]);
  if (msg == "ok\n") {
    return SpawnedSandbox{.pid = static_cast<pid_t>(pid),
                          .start_time = ProcessStartTime(static_cast<pid_t>(pid))};
  }
  // The child's own root cause, or how it died.
  kill(static_cast<pid_t>(pid), SIGKILL);
  int status = 0;
  while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
  }
  if (!msg.empty()) return absl::FailedPreconditionError(msg);
  if (WIFSIGNALED(status)) {
    return absl::InternalError(
        absl::StrCat("sandbox process was killed by signal ", WTERMSIG(status), " while starting"));
  }
  return absl::InternalError(absl::StrCat("sandbox process exited with status ",
                                          WEXITSTATUS(status), " while starting"));
}

}  // namespace palisade::sandbox
