#include "sentry/control/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/host_fstat.h"
#include "sentry/boot.h"
#include "sentry/control/wire.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "spdlog/spdlog.h"

namespace palisade::control {
namespace {

Response Error(std::string msg) {
  Response r;
  r.set_error(std::move(msg));
  return r;
}

// Signals whose default action is to ignore or continue: before start they
// leave the waiting init alone, as they leave runc's.
bool IgnoredByDefault(int sig) {
  return sig == SIGCHLD || sig == SIGCONT || sig == SIGWINCH || sig == SIGURG;
}

}  // namespace

ControlServer::ControlServer(int listen_fd) : listen_fd_(listen_fd) {
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) spdlog::warn("control: pipe: {}", strerror(errno));
}

ControlServer::~ControlServer() {
  close(listen_fd_);
  if (stop_pipe_[0] >= 0) close(stop_pipe_[0]);
  if (stop_pipe_[1] >= 0) close(stop_pipe_[1]);
}

std::optional<int> ControlServer::ServeUntilStart(Kernel& k, const std::function<void()>& ready) {
  kernel_ = &k;
  {
    std::lock_guard<std::mutex> l(mu_);
    accepting_ = true;
  }
  std::thread(&ControlServer::AcceptLoop, this).detach();
  ready();
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return start_requested_ || barrier_exit_.has_value(); });
  if (start_requested_) return std::nullopt;
  return barrier_exit_;
}

void ControlServer::Finish(int exit_code) {
  std::unique_lock<std::mutex> l(mu_);
  exit_code_ = exit_code;
  barrier_exit_ = exit_code;
  cv_.notify_all();
  if (!accepting_) return;
  // Let waiters receive the exit code before the process exits.
  cv_.wait_for(l, std::chrono::seconds(2), [this] { return active_connections_ == 0; });
  accepting_ = false;
  if (stop_pipe_[1] >= 0) (void)!write(stop_pipe_[1], "x", 1);
}

void ControlServer::AcceptLoop() {
  for (;;) {
    struct pollfd pfds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(pfds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (pfds[1].revents) return;
    int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    {
      std::lock_guard<std::mutex> l(mu_);
      active_connections_++;
    }
    std::thread(&ControlServer::ServeConnection, this, conn).detach();
  }
}

void ControlServer::ServeConnection(int conn) {
  Request req;
  std::vector<int> fds;
  absl::Status s = RecvMessage(conn, req, &fds);
  Response resp = s.ok() ? Handle(req, fds) : Error(std::string(s.message()));
  for (int fd : fds) close(fd);
  s = SendMessage(conn, resp);
  if (!s.ok()) spdlog::debug("control: {}", std::string(s.message()));
  close(conn);
  std::lock_guard<std::mutex> l(mu_);
  active_connections_--;
  cv_.notify_all();
}

Response ControlServer::Handle(const Request& req, std::vector<int>& fds) {
  switch (req.kind_case()) {
    case Request::kStart: {
      std::lock_guard<std::mutex> l(mu_);
      if (start_requested_) return Error("cannot start an already running container");
      if (barrier_exit_) return Error("cannot start a container that has stopped");
      start_requested_ = true;
      cv_.notify_all();
      return Response();
    }
    case Request::kSignal: return HandleSignal(req.signal());
    case Request::kPs: return HandlePs();
    case Request::kStats: return HandleStats();
    case Request::kWait: return HandleWait(req.wait());
    case Request::kExec: return HandleExec(req.exec(), fds);
    case Request::KIND_NOT_SET: break;
  }
  return Error("unknown control request");
}

Response ControlServer::HandleSignal(const SignalRequest& req) {
  int sig = req.signo();
  if (sig < 0 || sig > kNumSignals) return Error(absl::StrCat("invalid signal ", sig));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (exit_code_) return Error("container not running");
    if (!start_requested_) {
      // The init is still at its exec barrier.
      if (sig != 0 && !IgnoredByDefault(sig)) {
        barrier_exit_ = 128 + sig;
        cv_.notify_all();
      }
      return Response();
    }
  }
  if (sig == 0) return Response();
  Kernel& k = *kernel_;
  std::lock_guard<std::mutex> l(k.mu());
  // si_pid 0: from outside the sandbox, where init is killable.
  siginfo_t info = MakeKillInfo(sig, SI_USER, 0, 0);
  if (req.all()) {
    for (auto& tg : k.ThreadGroupsLocked()) {
      if (!tg->zombie) TaskOps::SendToGroupLocked(*tg, info);
    }
  } else if (auto init = k.init(); init && !init->zombie) {
    TaskOps::SendToGroupLocked(*init, info);
  } else {
    return Error("container not running");
  }
  return Response();
}

Response ControlServer::HandleWait(const WaitRequest& req) {
  if (req.pid() == 0) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return barrier_exit_.has_value(); });
    Response r;
    r.mutable_wait()->set_exit_code(*barrier_exit_);
    return r;
  }
  std::shared_ptr<ThreadGroup> tg;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = execs_.find(req.pid());
    if (it == execs_.end()) return Error(absl::StrCat("no process ", req.pid(), " started by exec"));
    tg = it->second;
  }
  // The exec'd process has no parent to wake; poll its zombie flag. The
  // sandbox ending kills it too.
  for (;;) {
    {
      std::lock_guard<std::mutex> l(kernel_->mu());
      if (tg->zombie) break;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (exit_code_) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int status;
  {
    std::lock_guard<std::mutex> l(kernel_->mu());
    status = tg->zombie ? tg->exit_status() : (SIGKILL);
    kernel_->RemoveExecRootLocked(tg.get());
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    execs_.erase(req.pid());
  }
  Response r;
  r.mutable_wait()->set_exit_code(ExitCodeFromWaitStatus(status));
  return r;
}

Response ControlServer::HandleExec(const ExecRequest& req, std::vector<int>& fds) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (exit_code_ || !start_requested_) return Error("cannot exec in a stopped container");
  }
  if (fds.size() != 3) return Error("exec needs stdin, stdout and stderr fds");
  ExecSpec spec{.argv = {req.argv().begin(), req.argv().end()},
                .env = {req.env().begin(), req.env().end()},
                .cwd = req.cwd().empty() ? "/" : req.cwd(),
                .uid = req.uid(),
                .gid = req.gid(),
                .additional_gids = {req.additional_gids().begin(), req.additional_gids().end()},
                .no_new_privileges = req.no_new_privileges(),
                .terminal = req.terminal()};
  absl::StatusOr<std::shared_ptr<ThreadGroup>> tg = SpawnProcess(*kernel_, spec, fds);
  if (!tg.ok()) return Error(std::string(tg.status().message()));
  int pid = (*tg)->pid();
  {
    std::lock_guard<std::mutex> l(mu_);
    execs_[pid] = *tg;
  }
  Response r;
  r.mutable_exec()->set_pid(pid);
  return r;
}

Response ControlServer::HandlePs() {
  Response r;
  PsResponse* ps = r.mutable_ps();
  Kernel& k = *kernel_;
  std::lock_guard<std::mutex> l(k.mu());
  for (auto& tg : k.ThreadGroupsLocked()) {
    if (tg->zombie) continue;
    if (tg->tasks.empty()) continue;
    const std::shared_ptr<Task> leader = tg->LeaderLocked();  // the main thread, if it still runs
    ProcessInfo* p = ps->add_processes();
    p->set_pid(tg->pid());
    auto parent = tg->parent.lock();
    p->set_ppid(parent ? parent->pid() : 0);
    p->set_uid(leader->creds().ruid);
    p->set_cmd(leader->comm());
    p->set_threads(static_cast<int>(tg->tasks.size()));
  }
  return r;
}

Response ControlServer::HandleStats() {
  Response r;
  StatsResponse* st = r.mutable_stats();
  Kernel& k = *kernel_;
  {
    std::lock_guard<std::mutex> l(k.mu());
    int procs = 0, threads = 0;
    for (auto& tg : k.ThreadGroupsLocked()) {
      if (tg->zombie) continue;
      procs++;
      threads += static_cast<int>(tg->tasks.size());
    }
    st->set_processes(procs);
    st->set_threads(threads);
  }
  struct stat sb;
  if (HostFstat(k.memory_file().fd(), &sb) == 0) {
    st->set_memory_file_bytes(static_cast<uint64_t>(sb.st_blocks) * 512);
  }
  return r;
}

}  // namespace palisade::control
