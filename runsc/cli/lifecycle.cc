#include "runsc/cli/lifecycle.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runsc/console/console.h"
#include "runsc/container/files.h"
#include "runsc/container/hooks.h"
#include "runsc/container/id.h"
#include "runsc/oci/boot_config.h"
#include "runsc/oci/bundle.h"
#include "runsc/sandbox/cgroup.h"
#include "runsc/sandbox/gofer_launch.h"
#include "runsc/sandbox/preflight.h"
#include "runsc/sandbox/spawn.h"
#include "spdlog/spdlog.h"

namespace palisade::cli {
namespace {

struct NsType {
  const char* name;
  int flag;
  bool always_new;  // isolation palisade adds even when config.json omits it
};
// network follows config.json (absent: the host's network, as runc); the
// rest are always private to the sandbox's host processes.
constexpr NsType kNamespaces[] = {
    {"mount", CLONE_NEWNS, true},  {"pid", CLONE_NEWPID, true},   {"ipc", CLONE_NEWIPC, true},
    {"uts", CLONE_NEWUTS, true},   {"network", CLONE_NEWNET, false}, {"cgroup", CLONE_NEWCGROUP, false},
};

absl::StatusOr<std::vector<sandbox::NamespaceRequest>> Namespaces(const oci::OciSpec& spec) {
  std::vector<sandbox::NamespaceRequest> out;
  std::vector<oci::Namespace> given;
  if (spec.linux_config) given = spec.linux_config->namespaces;
  for (const NsType& t : kNamespaces) {
    const oci::Namespace* ns = nullptr;
    for (const oci::Namespace& g : given) {
      if (g.type == t.name) ns = &g;
    }
    if (ns) {
      out.push_back({t.flag, ns->path});
    } else if (t.always_new) {
      out.push_back({t.flag, ""});
    }
  }
  for (const oci::Namespace& g : given) {
    if (g.type == "user" || g.type == "time") {
      spdlog::warn("linux.namespaces: a {} namespace is not supported for the sandbox's host "
                   "processes (the sentry gives the container its own view): ignored",
                   g.type);
    }
  }
  return out;
}

}  // namespace

void AddCreateFlags(CLI::App& sub, CreateFlags& f) {
  sub.add_option("container-id", f.args, "name of the container instance (unique per host)");
  sub.add_option("-b,--bundle", f.bundle,
                 "path to the root of the bundle directory (default: the current directory)");
  sub.add_option("--pid-file", f.pid_file, "file to write the sandbox's host process id to");
  sub.add_option("--console-socket", f.console_socket,
                 "AF_UNIX socket that receives the pty master when process.terminal is true");
  sub.add_option("--pidfd-socket", f.pidfd_socket, "accepted for runc compatibility; no effect");
  sub.add_flag("--no-pivot", f.no_pivot, "accepted for runc compatibility; no effect");
  sub.add_flag("--no-new-keyring", f.no_new_keyring, "accepted for runc compatibility; no effect");
  sub.add_option("--preserve-fds", f.preserve_fds,
                 "number of extra fds to pass to the container (not supported yet)");
}

std::vector<std::string> InheritedGlobalArgs(const GlobalOptions& g) {
  std::vector<std::string> out;
  if (!g.log.empty()) out.push_back("--log=" + oci::AbsolutePath(g.log));
  out.push_back("--log-format=" + g.log_format);
  if (g.debug) out.push_back("--debug");
  return out;
}

absl::StatusOr<Container> CreateContainer(const CreateFlags& f, const CommandContext& ctx,
                                          CreateMode mode) {
  const char* cmd = mode.foreground ? "run" : "create";
  PAL_RETURN_IF_ERROR(RequireExactArgs(cmd, f.args, 1));
  const std::string& id = f.args[0];
  PAL_RETURN_IF_ERROR(ValidateContainerId(id));
  if (f.preserve_fds < 0) return absl::InvalidArgumentError("--preserve-fds must not be negative");
  if (f.preserve_fds > 0) {
    spdlog::warn("--preserve-fds={} is not supported yet: no extra fds are passed to the container",
                 f.preserve_fds);
  }
  PAL_ASSIGN_OR_RETURN(oci::Bundle bundle, oci::LoadBundle(f.bundle));
  PAL_RETURN_IF_ERROR(sandbox::Preflight(ctx.global.platform));
  if (!bundle.spec.process) return absl::InvalidArgumentError("config.json has no process to run");
  const oci::Process& proc = *bundle.spec.process;

  // stdio: the caller's, or a new pty for process.terminal.
  bool use_pty = false, own_tty = false;
  if (proc.terminal) {
    if (!f.console_socket.empty()) {
      use_pty = true;
    } else if (mode.foreground && isatty(STDIN_FILENO)) {
      own_tty = true;
    } else if (mode.foreground) {
      spdlog::warn("process.terminal is true but stdin is not a terminal: running without a tty");
    } else {
      return absl::InvalidArgumentError(
          "cannot allocate tty if palisade will detach without setting console socket");
    }
  } else if (!f.console_socket.empty()) {
    return absl::InvalidArgumentError(
        "cannot use console socket if palisade will not detach or allocate tty");
  }
  PAL_ASSIGN_OR_RETURN(BootConfig cfg,
                       oci::ToBootConfig(bundle, {.platform = ctx.global.platform,
                                                  .strace = ctx.global.strace,
                                                  .stdio_is_tty = own_tty || use_pty}));
  cfg.overlay = ctx.global.overlay == "none" ? RootOverlay::kNone : RootOverlay::kMemory;
  cfg.report_path = mode.report.path;
  cfg.report_format = mode.report.format;
  sandbox::Resources resources;
  std::string cgroups_path;
  if (bundle.spec.linux_config) {
    PAL_ASSIGN_OR_RETURN(resources, sandbox::ParseResources(bundle.spec.linux_config->resources));
    cgroups_path = bundle.spec.linux_config->cgroups_path;
  }
  // Retained page cache counts against the container's memory limit, where
  // Linux would reclaim it: keep at most an eighth of the limit.
  if (resources.memory_limit && *resources.memory_limit > 0) {
    cfg.page_cache_retention = std::min<int64_t>(32 << 20, *resources.memory_limit / 8);
  }
  PAL_ASSIGN_OR_RETURN(std::vector<sandbox::NamespaceRequest> namespaces, Namespaces(bundle.spec));

  ContainerState state;
  state.oci_version = bundle.spec.oci_version;
  state.id = id;
  state.status = kStatusCreating;
  state.bundle = bundle.dir;
  state.rootfs = bundle.rootfs;
  state.created = NowRfc3339();
  state.annotations = bundle.spec.annotations;
  state.platform = ctx.global.platform;
  state.poststop = HooksToJson(bundle.spec.hooks.poststop);
  const std::string root = oci::AbsolutePath(ctx.global.root);
  PAL_ASSIGN_OR_RETURN(StateDir state_dir, StateDir::Create(root, state));
  // From here on a failure leaves nothing behind.
  std::optional<sandbox::Cgroup> cgroup;
  pid_t spawned = 0;
  bool done = false;
  absl::Cleanup undo = [&] {
    if (done) return;
    if (spawned > 0) kill(spawned, SIGKILL);
    if (cgroup) (void)cgroup->Destroy();
    (void)state_dir.Remove();
  };

  state.cgroup = sandbox::CgroupPathFor(cgroups_path, id);
  absl::StatusOr<sandbox::Cgroup> cg = sandbox::Cgroup::Create(state.cgroup, resources);
  if (!cg.ok()) {
    return absl::Status(cg.status().code(),
                        absl::StrCat("cannot set up the sandbox cgroup: ", cg.status().message()));
  }
  cgroup = *cg;
  PAL_RETURN_IF_ERROR(state_dir.Update(state));

  console::Pty pty;
  absl::Cleanup close_pty = [&] { pty.Close(); };
  sandbox::SpawnOptions opts;
  opts.config = cfg;
  opts.control_socket = state_dir.control_socket();
  opts.namespaces = std::move(namespaces);
  opts.cgroup_procs_files = cgroup->ProcsFiles();
  opts.global_args = InheritedGlobalArgs(ctx.global);
  if (use_pty) {
    PAL_ASSIGN_OR_RETURN(pty, console::OpenPty(proc.console_size));
    opts.stdio[0] = opts.stdio[1] = opts.stdio[2] = pty.slave;
  }
  // The gofer (its own confined process) serves the rootfs and bind
  // mounts; it joins the sandbox's cgroup so `delete` finds it, and ends
  // when the sentry's end of its socket closes.
  GoferProcess gofer;
  if (ctx.deps.launch_gofer) {
    GoferSpec gofer_spec = GoferSpecFor(cfg);
    gofer_spec.global_args = InheritedGlobalArgs(ctx.global);
    gofer_spec.keep_stderr = mode.foreground;
    PAL_ASSIGN_OR_RETURN(gofer, ctx.deps.launch_gofer(gofer_spec));
    for (const std::string& f : opts.cgroup_procs_files) {
      std::ofstream(f) << gofer.pid;
    }
    opts.gofer_fd = gofer.sentry_sock.get();
  }
  absl::Cleanup stop_gofer = [&] {
    if (!done) StopGofer(gofer);
  };
  PAL_ASSIGN_OR_RETURN(sandbox::SpawnedSandbox sb, sandbox::SpawnSandbox(opts));
  spawned = sb.pid;
  if (use_pty) PAL_RETURN_IF_ERROR(console::SendConsole(f.console_socket, pty));

  state.status = kStatusCreated;
  state.pid = sb.pid;
  state.start_time = sb.start_time;
  PAL_RETURN_IF_ERROR(state_dir.Update(state));
  if (!f.pid_file.empty()) PAL_RETURN_IF_ERROR(WritePidFile(f.pid_file, sb.pid));
  // runc runs prestart and createRuntime in `create`, then createContainer
  // (in the container's namespaces there; on the host here: the sentry has
  // no host processes to run them in).
  // They see the status runc gives them: "creating".
  ContainerState creating = state;
  creating.status = kStatusCreating;
  PAL_RETURN_IF_ERROR(RunHooks(bundle.spec.hooks.prestart, creating, "prestart"));
  PAL_RETURN_IF_ERROR(RunHooks(bundle.spec.hooks.create_runtime, creating, "createRuntime"));
  PAL_RETURN_IF_ERROR(RunHooks(bundle.spec.hooks.create_container, creating, "createContainer"));
  done = true;
  return Container::Load(root, id);
}

absl::Status StartContainer(Container& c) {
  if (c.state.status == kStatusStopped) {
    return absl::FailedPreconditionError("cannot start a container that has stopped");
  }
  if (c.state.status != kStatusCreated) {
    return absl::FailedPreconditionError("cannot start an already running container");
  }
  // startContainer and poststart hooks come from config.json in the bundle.
  oci::Hooks hooks;
  if (absl::StatusOr<oci::Bundle> b = oci::LoadBundle(c.state.bundle); b.ok()) {
    hooks = b->spec.hooks;
  }
  PAL_RETURN_IF_ERROR(RunHooks(hooks.start_container, c.state, "startContainer"));
  control::Request req;
  req.mutable_start();
  absl::StatusOr<control::Response> r = c.Call(req);
  if (!r.ok()) {
    if (absl::IsUnavailable(r.status())) {
      return absl::FailedPreconditionError("cannot start a container that has stopped");
    }
    return r.status();
  }
  c.state.status = kStatusRunning;
  PAL_RETURN_IF_ERROR(c.Save());
  absl::Status s = RunHooks(hooks.poststart, c.state, "poststart");
  if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  return absl::OkStatus();
}

}  // namespace palisade::cli
