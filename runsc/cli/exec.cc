// `palisade exec <id> <cmd> [args...]` or `exec --process F <id>`: a new
// process in the running sandbox, started by the sentry through the
// control socket with this process's stdio (or a new pty with --tty).
// Without --detach it waits and exits with the process's status; with
// --detach a small waiter process stays behind (named by --pid-file), so
// callers that watch that pid (conmon) see the process's lifetime.
// Errors are "exec failed: ..." with exit status 255, as runc's.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/console/console.h"
#include "runsc/container/files.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"
#include "runsc/oci/spec_parse.h"
#include "spdlog/spdlog.h"

namespace palisade::cli {
namespace {

struct ExecFlags {
  std::string process;
  std::string console_socket;
  std::string pidfd_socket;
  std::string pid_file;
  std::string cwd;
  std::string user;
  std::vector<std::string> env;
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;
  std::string apparmor, process_label, cgroup;
  bool detach = false;
  bool tty = false;
  bool no_new_privs = false;
  bool ignore_paused = false;
  int preserve_fds = 0;
};

// The process to run: --process JSON, else the container's own process
// (env, cwd, user) with the command line and flags applied, as runc does.
absl::StatusOr<oci::Process> BuildProcess(const ExecFlags& f, const Container& c,
                                          const std::vector<std::string>& cmd) {
  oci::Process p;
  if (!f.process.empty()) {
    PAL_ASSIGN_OR_RETURN(std::string text, oci::ReadFileToString(f.process));
    PAL_ASSIGN_OR_RETURN(p, oci::ParseProcess(text, f.process));
  } else {
    if (cmd.empty()) return absl::InvalidArgumentError("exec args cannot be empty");
    absl::StatusOr<oci::Bundle> b = oci::LoadBundle(c.state.bundle);
    if (b.ok() && b->spec.process) p = *b->spec.process;
    p.args = cmd;
    p.terminal = f.tty;
  }
  if (!f.cwd.empty()) p.cwd = f.cwd;
  if (p.cwd.empty()) p.cwd = "/";
  for (const std::string& e : f.env) p.env.push_back(e);
  if (!f.user.empty()) {
    std::vector<std::string> parts = absl::StrSplit(f.user, ':');
    if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &p.user.uid) ||
        (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &p.user.gid))) {
      return absl::InvalidArgumentError(absl::StrCat("invalid --user \"", f.user, "\": want UID[:GID]"));
    }
  }
  for (uint32_t g : f.additional_gids) p.user.additional_gids.push_back(g);
  if (f.no_new_privs) p.no_new_privileges = true;
  return p;
}

int WaitFor(const Container& c, int pid) {
  control::Request req;
  req.mutable_wait()->set_pid(pid);
  absl::StatusOr<control::Response> r = c.Call(req, {}, absl::InfiniteDuration());
  if (!r.ok()) {
    spdlog::error("exec: lost the sandbox: {}", std::string(r.status().message()));
    return 255;
  }
  return r->wait().exit_code();
}

absl::StatusOr<int> Exec(const ExecFlags& f, const std::vector<std::string>& rest,
                         const CommandContext& ctx) {
  if (rest.empty()) return absl::InvalidArgumentError("\"exec\" requires a minimum of 1 argument(s)");
  PAL_ASSIGN_OR_RETURN(Container c, Container::Load(oci::AbsolutePath(ctx.global.root), rest[0]));
  if (c.state.status == kStatusStopped) return absl::FailedPreconditionError("cannot exec in a stopped container");
  if (c.state.status == kStatusPaused && !f.ignore_paused) {
    return absl::FailedPreconditionError("cannot exec in a paused container (use --ignore-paused to override)");
  }
  if (c.state.status == kStatusCreated) {
    return absl::FailedPreconditionError("cannot exec in a created container: start it first");
  }
  PAL_ASSIGN_OR_RETURN(oci::Process p, BuildProcess(f, c, {rest.begin() + 1, rest.end()}));
  if (f.preserve_fds > 0) spdlog::warn("--preserve-fds is not supported yet: ignored");
  if (!f.caps.empty()) spdlog::warn("--cap is not supported: the sentry grants capabilities by uid");

  console::Pty pty;
  int stdio[3] = {0, 1, 2};
  if (p.terminal) {
    if (!f.console_socket.empty()) {
      PAL_ASSIGN_OR_RETURN(pty, console::OpenPty(p.console_size));
      stdio[0] = stdio[1] = stdio[2] = pty.slave;
    } else if (f.detach) {
      return absl::InvalidArgumentError(
          "cannot allocate tty if palisade will detach without setting console socket");
    } else if (!isatty(STDIN_FILENO)) {
      spdlog::warn("--tty without a terminal on stdin: running without a tty");
    }
  } else if (!f.console_socket.empty()) {
    return absl::InvalidArgumentError("cannot use console socket if palisade will not detach or allocate tty");
  }
  control::Request req;
  control::ExecRequest* e = req.mutable_exec();
  for (const auto& a : p.args) e->add_argv(a);
  for (const auto& v : p.env) e->add_env(v);
  e->set_cwd(p.cwd);
  e->set_uid(p.user.uid);
  e->set_gid(p.user.gid);
  for (uint32_t g : p.user.additional_gids) e->add_additional_gids(g);
  e->set_terminal(p.terminal);
  e->set_no_new_privileges(p.no_new_privileges);
  // Saved before the sentry takes the terminal over (it restores it
  // itself, unless it is killed).
  std::optional<console::TerminalModeGuard> tty_mode;
  if (!f.detach) tty_mode.emplace(STDIN_FILENO);
  absl::StatusOr<control::Response> r = c.Call(req, stdio);
  if (pty.slave >= 0) {
    close(pty.slave);  // the sentry holds its own copy
    pty.slave = -1;
  }
  if (!r.ok()) {
    pty.Close();
    return r.status();
  }
  const int pid = r->exec().pid();
  if (!f.console_socket.empty()) {
    absl::Status s = console::SendConsole(f.console_socket, pty);
    pty.Close();
    PAL_RETURN_IF_ERROR(s);
  }
  if (!f.detach) {
    if (!f.pid_file.empty()) PAL_RETURN_IF_ERROR(WritePidFile(f.pid_file, getpid()));
    return WaitFor(c, pid);
  }
  // Detached: a waiter lives exactly as long as the process.
  pid_t waiter = fork();
  if (waiter < 0) return absl::InternalError("fork the exec waiter failed");
  if (waiter == 0) {
    setsid();
    _exit(WaitFor(c, pid));
  }
  if (!f.pid_file.empty()) PAL_RETURN_IF_ERROR(WritePidFile(f.pid_file, waiter));
  return 0;
}

}  // namespace

CommandRunner SetupExec(CLI::App& sub) {
  auto f = std::make_shared<ExecFlags>();
  sub.add_option("-p,--process", f->process, "path to a process.json");
  sub.add_option("--console-socket", f->console_socket, "AF_UNIX socket that receives the pty master");
  sub.add_option("--pidfd-socket", f->pidfd_socket, "accepted for runc compatibility; no effect");
  sub.add_option("--pid-file", f->pid_file, "file to write the process id to");
  sub.add_option("--cwd", f->cwd, "current working directory in the container");
  sub.add_option("-u,--user", f->user, "UID[:GID]");
  sub.add_option("-e,--env", f->env, "set an environment variable (KEY=VALUE)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub.add_option("-g,--additional-gids", f->additional_gids, "additional gids")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub.add_option("-c,--cap", f->caps, "add a capability (not supported)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub.add_option("--apparmor", f->apparmor, "accepted for runc compatibility; no effect");
  sub.add_option("--process-label", f->process_label, "accepted for runc compatibility; no effect");
  sub.add_option("--cgroup", f->cgroup, "accepted for runc compatibility; no effect");
  sub.add_flag("-d,--detach", f->detach, "detach from the process");
  sub.add_flag("-t,--tty", f->tty, "allocate a pseudo-TTY");
  sub.add_flag("--no-new-privs", f->no_new_privs, "set no_new_privileges");
  sub.add_flag("--ignore-paused", f->ignore_paused, "allow exec in a paused container");
  sub.add_option("--preserve-fds", f->preserve_fds, "extra fds to pass (not supported yet)");
  // Everything from the container id on is the id and the command line.
  sub.prefix_command();
  CLI::App* app = &sub;
  return [f, app](const CommandContext& ctx) -> absl::StatusOr<int> {
    absl::StatusOr<int> r = Exec(*f, app->remaining(), ctx);
    if (!r.ok()) {
      spdlog::error("exec failed: {}", std::string(r.status().message()));
      return 255;
    }
    return r;
  };
}

}  // namespace palisade::cli
