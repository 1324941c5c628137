// `palisade run <id>`: create + start, then (without --detach) wait in
// the foreground for the container to exit and exit with its status
// (128+N after death by signal N), forwarding signals to it. The state
// directory goes away when it exits (unless --keep), as with runc.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/match.h"

#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/oci/bundle.h"
#include "runsc/cli/lifecycle.h"
#include "runsc/console/console.h"
#include "spdlog/spdlog.h"

namespace palisade::cli {
namespace {

struct RunFlags {
  CreateFlags create;
  bool detach = false;
  bool keep = false;
  bool no_subreaper = false;
  std::string report;         // --report: workload report file
  std::string report_format;  // --report-format: json or text (default: by extension)
};

// Signals the foreground `run` passes on to the container, as runc does.
constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

// Waits for the sandbox process (our child) while forwarding signals to
// the container through the control socket.
int WaitForeground(Container& c) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  sigaddset(&set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const pid_t pid = c.state.pid;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      spdlog::error("wait for the sandbox: {}", strerror(errno));
      return 255;
    }
    struct timespec ts = {0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig <= 0 || sig == SIGCHLD) continue;
    control::Request req;
    req.mutable_signal()->set_signo(sig);
    absl::StatusOr<control::Response> resp = c.Call(req, {}, absl::Seconds(5));
    if (!resp.ok()) spdlog::debug("forward signal {}: {}", sig, std::string(resp.status().message()));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

CreateMode::Report ReportFor(const RunFlags& f) {
  if (f.report.empty()) return {};
  return {.path = oci::AbsolutePath(f.report),
          .format = !f.report_format.empty()         ? f.report_format
                    : absl::EndsWith(f.report, ".txt") ? "text"
                                                       : "json"};
}

absl::StatusOr<int> Run(const RunFlags& f, const CommandContext& ctx) {
  if (f.no_subreaper) spdlog::debug("--no-subreaper has no effect in palisade");
  // Saved before the sandbox takes the terminal over.
  std::optional<console::TerminalModeGuard> tty_mode;
  if (!f.detach) tty_mode.emplace(STDIN_FILENO);
  PAL_ASSIGN_OR_RETURN(Container c, CreateContainer(f.create, ctx, {.foreground = !f.detach, .report = ReportFor(f)}));
  absl::Status s = StartContainer(c);
  if (!s.ok()) {
    (void)c.Destroy();
    return s;
  }
  if (f.detach) return 0;
  int code = WaitForeground(c);
  spdlog::debug("container {} exited with status {}", c.state.id, code);
  if (f.keep) {
    c.state.status = kStatusStopped;
    (void)c.Save();
  } else {
    absl::Status d = c.Destroy();
    if (!d.ok()) spdlog::warn("{}", std::string(d.message()));
  }
  return code;
}

}  // namespace

CommandRunner SetupRun(CLI::App& sub) {
  auto f = std::make_shared<RunFlags>();
  AddCreateFlags(sub, f->create);
  sub.add_flag("-d,--detach", f->detach, "detach from the container's process");
  sub.add_flag("--keep", f->keep, "keep the container's state (status \"stopped\") after it exits");
  sub.add_flag("--no-subreaper", f->no_subreaper, "accepted for runc compatibility; no effect");
  sub.add_option("--report", f->report,
                 "write a report of unimplemented syscalls, ioctls and /proc, /sys paths the "
                 "container used to this file when it ends");
  sub.add_option("--report-format", f->report_format,
                 "json or text (default: text for a .txt file, else json)")
      ->check(CLI::IsMember({"json", "text"}));
  return [f](const CommandContext& ctx) { return Run(*f, ctx); };
}

}  // namespace palisade::cli
