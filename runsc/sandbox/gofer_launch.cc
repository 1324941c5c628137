#include "runsc/sandbox/gofer_launch.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "gofer/server/gofer_main.h"
#include "spdlog/spdlog.h"

namespace palisade {
namespace {

// Fixed fd numbers in the child.
constexpr int kChildSock = 3;
constexpr int kChildReport = 4;

std::string DescribeWait(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return "stopped";
}

// The palisade-gofer binary next to the running palisade (the build
// directory, or wherever both are installed), or "" when there is none.
std::string GoferBinary() {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "";
  std::string path(self, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  path = absl::StrCat(path.substr(0, slash + 1), "palisade-gofer");
  return access(path.c_str(), X_OK) == 0 ? path : "";
}

}  // namespace

GoferSpec GoferSpecFor(const BootConfig& cfg) {
  GoferSpec s;
  s.rootfs = cfg.rootfs;
  s.rootfs_writable = cfg.overlay == RootOverlay::kNone && !cfg.root_readonly;
  for (const BootMount& m : cfg.mounts) {
    if (!m.is_bind()) continue;
    // The last of "ro"/"rw" wins, as in mount(8).
    bool ro = false;
    for (const auto& o : m.options) {
      if (o == "ro") ro = true;
      if (o == "rw") ro = false;
    }
    s.binds.push_back({m.source, m.destination, ro});
  }
  return s;
}

absl::StatusOr<GoferProcess> LaunchGofer(const GoferSpec& spec) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return ErrnoStatus(errno, "socketpair", "gofer");
  UniqueFd sentry_end(sv[0]), gofer_end(sv[1]);
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe", "gofer report");
  UniqueFd report_r(pfd[0]), report_w(pfd[1]);
  UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull.ok()) return ErrnoStatus(errno, "open", "/dev/null");

  // Everything the child needs is built before fork (the front end may
  // have threads: only async-signal-safe calls after it).
  std::vector<gofer::GoferBind> binds;
  for (const auto& b : spec.binds) binds.push_back({b.source, b.destination, b.readonly});
  std::vector<std::string> args = {"palisade-gofer"};
  args.insert(args.end(), spec.global_args.begin(), spec.global_args.end());
  args.insert(args.end(), {"gofer",
                                   "--rootfs", spec.rootfs,
                                   "--binds", gofer::BindsToJson(binds),
                                   "--sock-fd", std::to_string(kChildSock),
                                   "--report-fd", std::to_string(kChildReport)});
  if (spec.rootfs_writable) args.push_back("--rootfs-writable");
  // Set-up errors come back through the report pipe; later ones go to
  // the log file (global_args) and, in the foreground, the caller's stderr.
  const bool keep_stderr = spec.keep_stderr;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  // The small palisade-gofer if it is installed (it maps a fraction of
  // what palisade does: docs/benchmarks.md, idle RSS), else `palisade
  // gofer` through /proc/self/exe; both take the same arguments.
  std::string exe = GoferBinary();
  if (exe.empty()) {
    spdlog::debug("no palisade-gofer next to palisade: running `palisade gofer`");
    exe = "/proc/self/exe";
  }

  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork", "gofer");
  if (pid == 0) {
    // No PDEATHSIG: after `create` the front end exits while the sandbox
    // lives on. The gofer ends instead when the last holder of the other
    // end of its socket (the front end until it hands it over, then the
    // sentry) closes it.
    (void)parent;
    // Move the fds to their fixed numbers (dup2 clears CLOEXEC on the copy).
    int s = fcntl(gofer_end.get(), F_DUPFD_CLOEXEC, 10);
    int r = fcntl(report_w.get(), F_DUPFD_CLOEXEC, 10);
    if (s < 0 || r < 0 || dup2(devnull.get(), 0) < 0 || dup2(devnull.get(), 1) < 0 ||
        (!keep_stderr && dup2(devnull.get(), 2) < 0) || dup2(s, kChildSock) < 0 ||
        dup2(r, kChildReport) < 0) {
      _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(exe.c_str(), argv.data());
    const char msg[] = "gofer: exec failed: ";
    (void)!write(kChildReport, msg, sizeof(msg) - 1);
    (void)!write(kChildReport, exe.data(), exe.size());
    (void)!write(kChildReport, "\n", 1);
    _exit(127);
  }
  gofer_end.reset();
  report_w.reset();
  std::string report;
  char buf[512];
  for (;;) {
    ssize_t n = read(report_r.get(), buf, sizeof(buf));
    if (n > 0) {
      report.append(buf, static_cast<size_t>(n));
      if (report.find('\n') != std::string::npos) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  absl::string_view line = absl::StripTrailingAsciiWhitespace(report);
  if (line == "ok") return GoferProcess{pid, std::move(sentry_end)};
  int status = 0;
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (line.empty()) {
    return absl::InternalError(absl::StrCat("gofer exited during set-up without a report (", DescribeWait(status), ")"));
  }
  return absl::FailedPreconditionError(std::string(line));
}

void StopGofer(GoferProcess& g) {
  if (g.pid <= 0) return;
  g.sentry_sock.reset();
  int status = 0;
  pid_t r;
  while ((r = waitpid(g.pid, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == g.pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    spdlog::debug("gofer (pid {}) exited after the sentry hung up", g.pid);
  } else if (r == g.pid) {
    // It ended before we asked: the sandbox's file access was cut off.
    spdlog::error("gofer (pid {}) died during the run ({}); file operations in the sandbox failed with EIO",
                  g.pid, DescribeWait(status));
  } else {
    kill(g.pid, SIGKILL);
    while (waitpid(g.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  g.pid = -1;
}

}  // namespace palisade
