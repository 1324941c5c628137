// RunSandbox(): the sentry's entry point. Builds the Kernel (MemoryFile,
// platform, PID namespace), the mount tree, and the init task (PID 1) with
// the container's stdio, executes the container's process and waits until
// the sandbox ends, forwarding the front end's signals to init.
#include "sentry/boot.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "sentry/boot_mounts.h"
#include "sentry/boot_stdio.h"
#include "sentry/kernel/kernel.h"
#include "sentry/fsimpl/dev/host_stdio.h"
#include "sentry/kernel/task_clone.h"
#include "sentry/kernel/task_exit.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/report.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Host signals the front end forwards to the container's init, as runc
// does for `runc run`.
constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGWINCH, SIGCONT};

std::string EnvValue(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return "";
}

// Finds argv[0] in $PATH inside the sandbox, as runc's exec does.
absl::StatusOr<std::string> LookPath(Task& init, const std::vector<std::string>& argv,
                                     const std::vector<std::string>& env) {
  const std::string& name = argv[0];
  if (name.find('/') != std::string::npos) {
    // As runc: a missing program is found before the container starts.
    vfs::PathContext ctx = vfs::ContextFor(init);
    if (!vfs::Resolve(ctx, AT_FDCWD, name, {.follow = true}).ok()) {
      return absl::NotFoundError(
          absl::StrCat("exec: \"", name, "\": stat ", name, ": no such file or directory"));
    }
    return name;
  }
  std::string path = EnvValue(env, "PATH");
  if (path.empty()) path = kDefaultPath;
  vfs::PathContext ctx = vfs::ContextFor(init);
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    auto node = vfs::Resolve(ctx, AT_FDCWD, candidate, {.follow = true});
    if (!node.ok()) continue;
    auto attr = node->dentry->inode()->GetAttr();
    if (attr.ok() && S_ISREG(attr->mode) && (attr->mode & 0111)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("exec: \"", name, "\": executable file not found in $PATH"));
}

// A new process leading its own session. init: it becomes the sandbox's
// init (PID 1); otherwise a parentless process started by `exec`, which
// inherits init's resource limits as runc exec does.
std::shared_ptr<Task> MakeProcess(Kernel& k, const ExecSpec& spec, const BootConfig* init_cfg) {
  std::lock_guard<std::mutex> l(k.mu());
  int pid = k.AllocatePidLocked();
  auto tg = std::make_shared<ThreadGroup>(k, pid);
  tg->pgid = tg->sid = pid;
  tg->start_mono_ns = MonotonicNowNs();
  for (int r = 0; r < RLIM_NLIMITS; r++) getrlimit(r, &tg->rlimits[r]);
  if (init_cfg) {
    for (const auto& rl : init_cfg->rlimits) {
      if (rl.resource >= 0 && rl.resource < RLIM_NLIMITS) tg->rlimits[rl.resource] = {rl.soft, rl.hard};
    }
  } else if (auto init = k.init()) {
    tg->rlimits = init->rlimits;
  }
  tg->no_new_privs = spec.no_new_privileges;
  auto t = std::make_shared<Task>(k, tg, pid);
  t->set_creds(Credentials::ForUser(spec.uid, spec.gid,
                                     std::vector<gid_t>(spec.additional_gids.begin(), spec.additional_gids.end())));
  t->set_mm(std::make_shared<MemoryManager>(k.memory_file(), k.platform()));
  t->set_fds(std::make_shared<FdTable>());
  auto fs = std::make_shared<FsContext>();
  fs->set_root(k.mount_namespace().RootPath());
  fs->set_cwd(k.mount_namespace().RootPath());
  fs->exchange_umask(init_cfg ? init_cfg->umask : 022);
  t->set_fs(fs);
  // 64-bit user code and stack segments, as the host kernel uses.
  t->regs().cs = 0x33;
  t->regs().ss = 0x2b;
  tg->tasks.push_back(t);
  k.RegisterTaskLocked(t);
  if (init_cfg) k.set_init(tg);
  else k.AddExecRootLocked(tg);
  return t;
}

ExecSpec InitSpec(const BootConfig& cfg) {
  return ExecSpec{.argv = cfg.argv,
                  .env = cfg.env,
                  .cwd = cfg.cwd,
                  .uid = cfg.uid,
                  .gid = cfg.gid,
                  .additional_gids = cfg.additional_gids,
                  .no_new_privileges = cfg.no_new_privileges};
}

// runc's wording for an exec failure, and its exit code (127 for a
// missing program, 126 for one that cannot run).
int ReportExecError(const std::string& name, Errno e) {
  std::string why = e == Errno(ENOENT)    ? "no such file or directory"
                    : e == Errno(ENOEXEC) ? "exec format error"
                    : e == Errno(EACCES)  ? "permission denied"
                                          : e.Name();
  spdlog::error("exec: \"{}\": {}", name, why);
  return e == Errno(ENOENT) ? 127 : 126;
}

absl::Status SetCwd(Task& init, const std::string& cwd) {
  vfs::PathContext ctx = vfs::ContextFor(init);
  auto p = vfs::Resolve(ctx, AT_FDCWD, cwd, {.follow = true});
  if (!p.ok() && p.error() == Errno(ENOENT)) {
    MkdirAll(ctx, cwd);  // runc creates a missing cwd
    p = vfs::Resolve(ctx, AT_FDCWD, cwd, {.follow = true});
  }
  if (!p.ok()) return absl::InvalidArgumentError(absl::StrCat("cwd \"", cwd, "\": ", p.error().Name()));
  auto attr = p->dentry->inode()->GetAttr();
  if (!attr.ok() || !S_ISDIR(attr->mode)) return absl::InvalidArgumentError(absl::StrCat("cwd \"", cwd, "\": not a directory"));
  init.fs().set_cwd(*p);
  return absl::OkStatus();
}


// Forwards host signals to init until the sandbox exits.
class SignalForwarder {
 public:
  SignalForwarder(Kernel& k) : k_(k), thread_((BlockStopSignal(), std::thread([this] { Loop(); }))) {}
  ~SignalForwarder() {
    stop_ = true;
    // Wakes the thread at once: the sandbox's exit waits for this join.
    pthread_kill(thread_.native_handle(), StopSignal());
    thread_.join();
  }

 private:
  // Only ever sent to the forwarder thread, which waits for it; blocked
  // in the creating thread first so the new thread starts with it blocked
  // (unblocked, a real-time signal's default action ends the process).
  static int StopSignal() { return SIGRTMIN + 4; }
  static void BlockStopSignal() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, StopSignal());
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
  }
  void Loop() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kForwarded) sigaddset(&set, s);
    sigaddset(&set, StopSignal());
    while (!stop_) {
      int sig = sigwaitinfo(&set, nullptr);
      if (sig <= 0 || sig == StopSignal()) continue;
      std::lock_guard<std::mutex> l(k_.mu());
      if (auto init = k_.init()) {
        // si_pid 0: from outside the sandbox, where init is killable.
        TaskOps::SendToGroupLocked(*init, MakeKillInfo(sig, SI_USER, 0, 0));
      }
    }
  }
  Kernel& k_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

int ExitCodeFromWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

absl::StatusOr<std::shared_ptr<ThreadGroup>> SpawnProcess(Kernel& k, const ExecSpec& spec,
                                                          std::span<const int> stdio) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("process args must not be empty");
  if (stdio.size() != 3) return absl::InvalidArgumentError("exec needs 3 stdio fds");
  std::shared_ptr<Task> t = MakeProcess(k, spec, nullptr);
  auto abandon = [&] {
    ExitTask(*t, 0, true);
    std::lock_guard<std::mutex> l(k.mu());
    k.RemoveExecRootLocked(&t->thread_group());
  };
  absl::Status s = SetCwd(*t, spec.cwd);
  std::unique_ptr<ConsoleRelay> console;
  if (s.ok() && spec.terminal && isatty(stdio[0])) {
    absl::StatusOr<std::unique_ptr<ConsoleRelay>> c = ConsoleRelay::Attach(*t, stdio[0]);
    if (c.ok()) console = std::move(*c);
    else s = c.status();
  } else {
    for (int fd = 0; fd < 3 && s.ok(); fd++) {
      FileRef f = dev::NewHostStdioFile(stdio[fd], fcntl(stdio[fd], F_GETFL));
      if (!f) {
        s = absl::InternalError(absl::StrCat("cannot share stdio fd ", fd));
      } else if (Errno e = t->fds().Set(fd, f, false); !e.ok()) {
        s = absl::InternalError(e.Name());
      }
    }
  }
  absl::StatusOr<std::string> path =
      s.ok() ? LookPath(*t, spec.argv, spec.env) : absl::StatusOr<std::string>(s);
  if (!path.ok()) {
    abandon();
    return path.status();
  }
  if (Errno e = ExecTask(*t, *path, AT_FDCWD, 0, spec.argv, spec.env); !e.ok()) {
    abandon();
    return absl::FailedPreconditionError(absl::StrCat("exec: \"", spec.argv[0], "\": ", e.Name()));
  }
  std::shared_ptr<ThreadGroup> tg = t->thread_group().shared_from_this();
  k.StartTask(std::move(t));
  ConsoleRelay::Detach(std::move(console));  // it ends with the process's terminal
  return tg;
}

absl::StatusOr<int> RunSandbox(const BootConfig& cfg) { return RunSandbox(cfg, BootHooks{}); }

absl::StatusOr<int> RunSandbox(const BootConfig& cfg, const BootHooks& hooks) {
  if (cfg.argv.empty()) return absl::InvalidArgumentError("process.args must not be empty");
  // Block forwarded signals before any thread exists so only the forwarder
  // takes them (threads and stubs inherit this mask).
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // EPIPE on a host fd (stdio to a closed pipe) is the app's business: the
  // sentry turns it into the app's SIGPIPE and must not die of it itself.
  signal(SIGPIPE, SIG_IGN);

  // The report file is opened first, so a bad path fails before anything runs.
  std::unique_ptr<SyscallReport> report;
  if (!cfg.report_path.empty()) {
    PAL_ASSIGN_OR_RETURN(report, SyscallReport::Open(cfg.report_path, cfg.report_format));
  }
  absl::Cleanup write_report = [&] {
    if (report) report->Write();
  };

  PAL_ASSIGN_OR_RETURN(auto mf, MemoryFile::Create());
  // tmpfs keeps file data in it, so MAP_SHARED can map those pages.
  MemoryFile::SetForFiles(mf.get());
  int memfd = mf->fd();
  PAL_ASSIGN_OR_RETURN(auto platform, platform::Platform::Create(cfg.platform, memfd));
  auto k = std::make_unique<Kernel>(std::move(mf), std::move(platform), KernelOptions{cfg.hostname, cfg.strace, report ? &report->recorder() : nullptr});
  // The global mount namespace holds tmpfs files whose data lives in the
  // Kernel's MemoryFile: drop it before the Kernel (and that file) goes.
  absl::Cleanup drop_mounts = [] { vfs::SetGlobalMountNamespace(nullptr); };

  Credentials root_creds;  // mounts are set up with full privilege
  vfs::PathContext root_ctx;
  root_ctx.creds = root_creds;
  PAL_RETURN_IF_ERROR(SetUpMounts(*k, cfg, root_ctx));

  std::shared_ptr<Task> init = MakeProcess(*k, InitSpec(cfg), &cfg);
  PAL_RETURN_IF_ERROR(SetCwd(*init, cfg.cwd));
  PAL_ASSIGN_OR_RETURN(std::unique_ptr<ConsoleRelay> console, InstallStdio(*init, cfg));

  auto path = LookPath(*init, cfg.argv, cfg.env);
  if (!path.ok()) {
    // With a start barrier, `create` itself fails, as runc's does.
    if (hooks.at_start_barrier) return path.status();
    spdlog::error("{}", std::string(path.status().message()));
    return 127;
  }
  if (hooks.at_start_barrier) {
    if (std::optional<int> code = hooks.at_start_barrier(*k)) return *code;
  }
  Errno e = ExecTask(*init, *path, AT_FDCWD, 0, cfg.argv, cfg.env);
  if (!e.ok()) return ReportExecError(cfg.argv[0], e);
  init->set_comm(init->comm());

  int status;
  {
    SignalForwarder fwd(*k);
    k->StartTask(init);
    init.reset();
    status = k->WaitUntilSandboxExit();
  }
  console.reset();  // the last output reaches the host tty before we exit
  spdlog::debug("sandbox init exited with wait status {:#x}", status);
  return ExitCodeFromWaitStatus(status);
}

}  // namespace palisade
