// `palisade run <id>`: create a container from a bundle and run it in the
// foreground until it exits, exiting with its status (128+N after death by
// signal N). For now the sandbox runs in this process; the state directory
// exists exactly as long as the container does (unless --keep).
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/container/files.h"
#include "runsc/container/id.h"
#include "runsc/container/state.h"
#include "runsc/oci/boot_config.h"
#include "runsc/oci/bundle.h"
#include "spdlog/spdlog.h"

namespace palisade::cli {
namespace {

struct RunFlags {
  std::vector<std::string> args;
  std::string bundle;
  std::string pid_file;
  std::string console_socket;
  bool detach = false;
  bool keep = false;
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool no_subreaper = false;
  int preserve_fds = 0;
};

// Flags runc callers send that mean nothing for a sandbox: the sentry never
// pivots on the host, has no session keyring and reaps its own children.
void LogNoOpFlags(const RunFlags& f) {
  if (f.no_pivot) spdlog::debug("--no-pivot has no effect in palisade");
  if (f.no_new_keyring) spdlog::debug("--no-new-keyring has no effect in palisade");
  if (f.no_subreaper) spdlog::debug("--no-subreaper has no effect in palisade");
  if (f.preserve_fds > 0) {
    spdlog::warn("--preserve-fds={} is not supported yet: no extra fds are passed to the container",
                 f.preserve_fds);
  }
}

absl::Status CheckRunFlags(const RunFlags& f) {
  if (f.detach) {
    return absl::UnimplementedError(
        "run --detach is not supported yet: run the container in the foreground (without -d)");
  }
  if (!f.console_socket.empty()) {
    // runc's rule: a console socket is only for a detached container with a
    // tty; a foreground run uses this process's own stdio.
    return absl::InvalidArgumentError(
        "cannot use console socket if palisade will not detach or allocate tty");
  }
  if (f.preserve_fds < 0) return absl::InvalidArgumentError("--preserve-fds must not be negative");
  return absl::OkStatus();
}

absl::StatusOr<int> Run(const RunFlags& f, const CommandContext& ctx) {
  PAL_RETURN_IF_ERROR(RequireExactArgs("run", f.args, 1));
  const std::string& id = f.args[0];
  PAL_RETURN_IF_ERROR(ValidateContainerId(id));
  PAL_RETURN_IF_ERROR(CheckRunFlags(f));
  LogNoOpFlags(f);

  PAL_ASSIGN_OR_RETURN(oci::Bundle bundle, oci::LoadBundle(f.bundle));
  const bool tty = isatty(STDIN_FILENO) == 1;
  PAL_ASSIGN_OR_RETURN(BootConfig cfg,
                       oci::ToBootConfig(bundle, {.platform = ctx.global.platform,
                                                  .strace = ctx.global.strace,
                                                  .stdio_is_tty = tty}));
  if (bundle.spec.process->terminal && !tty) {
    spdlog::warn("process.terminal is true but stdin is not a terminal: running without a tty");
  }
  if (!bundle.spec.hooks.empty()) {
    spdlog::warn("config.json has hooks: palisade does not run OCI hooks yet");
  }

  ContainerState state{
      .oci_version = bundle.spec.oci_version,
      .id = id,
      .status = kStatusRunning,
      .pid = getpid(),
      .bundle = bundle.dir,
      .rootfs = bundle.rootfs,
      .created = NowRfc3339(),
      .annotations = bundle.spec.annotations,
  };
  const std::string root = oci::AbsolutePath(ctx.global.root);
  PAL_ASSIGN_OR_RETURN(StateDir state_dir, StateDir::Create(root, state));
  absl::Cleanup cleanup = [&] {
    if (f.keep) {
      state.status = kStatusStopped;
      absl::Status s = state_dir.Update(state);
      if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
      return;
    }
    absl::Status s = state_dir.Remove();
    if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  };

  if (!f.pid_file.empty()) PAL_RETURN_IF_ERROR(WritePidFile(f.pid_file, getpid()));

  spdlog::debug("run {}: rootfs {}, platform {}, argv[0] {}", id, cfg.rootfs, cfg.platform,
                cfg.argv.front());
  if (!ctx.deps.run_sandbox) return absl::InternalError("no sandbox runner is linked in");
  // The gofer (its own confined process) serves the rootfs and bind mounts.
  cfg.overlay = ctx.global.overlay == "none" ? RootOverlay::kNone : RootOverlay::kMemory;
  GoferProcess gofer;
  if (ctx.deps.launch_gofer) {
    PAL_ASSIGN_OR_RETURN(gofer, ctx.deps.launch_gofer(GoferSpecFor(cfg)));
    cfg.gofer_fd = gofer.sentry_sock.get();
  }
  absl::Cleanup stop_gofer = [&] { StopGofer(gofer); };
  PAL_ASSIGN_OR_RETURN(int exit_code, ctx.deps.run_sandbox(cfg));
  spdlog::debug("container {} exited with status {}", id, exit_code);
  return exit_code;
}

}  // namespace

CommandRunner SetupRun(CLI::App& sub) {
  auto f = std::make_shared<RunFlags>();
  sub.add_option("container-id", f->args, "name of the container instance (unique per host)");
  sub.add_option("-b,--bundle", f->bundle,
                 "path to the root of the bundle directory (default: the current directory)");
  sub.add_option("--pid-file", f->pid_file, "file to write the process id to");
  sub.add_option("--console-socket", f->console_socket,
                 "AF_UNIX socket that receives the pty master (only with --detach)");
  sub.add_flag("-d,--detach", f->detach, "detach from the container's process (not supported yet)");
  sub.add_flag("--keep", f->keep, "keep the container's state (status \"stopped\") after it exits");
  sub.add_flag("--no-pivot", f->no_pivot, "accepted for runc compatibility; no effect");
  sub.add_flag("--no-new-keyring", f->no_new_keyring, "accepted for runc compatibility; no effect");
  sub.add_flag("--no-subreaper", f->no_subreaper, "accepted for runc compatibility; no effect");
  sub.add_option("--preserve-fds", f->preserve_fds,
                 "number of extra fds to pass to the container (not supported yet)");
  return [f](const CommandContext& ctx) { return Run(*f, ctx); };
}

}  // namespace palisade::cli
