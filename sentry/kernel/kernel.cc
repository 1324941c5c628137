#include "sentry/kernel/kernel.h"

#include <sys/syscall.h>

#include <system_error>
#include <thread>

#include "spdlog/spdlog.h"
#include "sentry/loader/vdso.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/task_run.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {

Kernel::Kernel(std::unique_ptr<MemoryFile> mf, std::unique_ptr<platform::Platform> p, KernelOptions opts)
    : mf_(std::move(mf)),
      platform_(std::move(p)),
      opts_(std::move(opts)),
      boot_mono_ns_(MonotonicNowNs()),
      hostname_(opts_.hostname),
      unimpl_reported_(1024, false) {}

Kernel::~Kernel() = default;

loader::Vdso* Kernel::vdso() {
  std::call_once(vdso_once_, [this] {
    ErrnoOr<std::unique_ptr<loader::Vdso>> v = loader::Vdso::Create(*mf_);
    if (v.ok()) {
      vdso_ = std::move(*v);
    } else {
      spdlog::warn("no vDSO: {}", v.error().Name());
    }
  });
  return vdso_.get();
}

std::string Kernel::hostname() const {
  std::lock_guard<std::mutex> l(mu_);
  return hostname_;
}

void Kernel::set_hostname(std::string h) {
  std::lock_guard<std::mutex> l(mu_);
  hostname_ = std::move(h);
}

int Kernel::AllocatePidLocked() {
  // PIDs are never reused while the sandbox lives, up to pid_max.
  for (;;) {
    int pid = next_pid_++;
    if (next_pid_ > 4194304) next_pid_ = 300;
    if (!tasks_.count(pid)) return pid;
  }
}

void Kernel::RegisterTaskLocked(const std::shared_ptr<Task>& t) { tasks_[t->tid()] = t; }
void Kernel::UnregisterTaskLocked(int tid) { tasks_.erase(tid); }

std::shared_ptr<Task> Kernel::TaskByTidLocked(int tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second.lock();
}

std::shared_ptr<Task> Kernel::TaskByTid(int tid) {
  std::lock_guard<std::mutex> l(mu_);
  return TaskByTidLocked(tid);
}

void Kernel::AddExecRootLocked(std::shared_ptr<ThreadGroup> tg) { exec_roots_.push_back(std::move(tg)); }

void Kernel::RemoveExecRootLocked(const ThreadGroup* tg) {
  std::erase_if(exec_roots_, [tg](const auto& r) { return r.get() == tg; });
}

std::vector<std::shared_ptr<ThreadGroup>> Kernel::ThreadGroupsLocked() const {
  // Walk the process tree from init so zombies are included.
  std::vector<std::shared_ptr<ThreadGroup>> out;
  if (!init_) return out;
  std::vector<std::shared_ptr<ThreadGroup>> stack = exec_roots_;
  stack.push_back(init_);
  while (!stack.empty()) {
    auto tg = stack.back();
    stack.pop_back();
    out.push_back(tg);
    for (auto& c : tg->children) stack.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a->pid() < b->pid(); });
  return out;
}

std::vector<std::shared_ptr<ThreadGroup>> Kernel::ThreadGroups() {
  std::lock_guard<std::mutex> l(mu_);
  return ThreadGroupsLocked();
}

std::shared_ptr<ThreadGroup> Kernel::ThreadGroupByPid(int pid) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& tg : ThreadGroupsLocked()) {
    if (tg->pid() == pid) return tg;
  }
  return nullptr;
}

void Kernel::StartTask(std::shared_ptr<Task> t) {
  {
    std::lock_guard<std::mutex> l(mu_);
    running_threads_++;
  }
  std::thread([this, t = std::move(t)]() mutable {
    RunTask(t);
    t.reset();
    std::lock_guard<std::mutex> l(mu_);
    if (--running_threads_ == 0) all_exited_.notify_all();
  }).detach();
}

struct Kernel::TaskLaunch::State {
  std::mutex mu;
  std::condition_variable cv;
  enum { kPending, kReady, kFailed } context = kPending;  // guarded by mu
  bool run = false, cancel = false;                       // guarded by mu
};

Kernel::TaskLaunch::~TaskLaunch() {
  if (ran_) return;
  std::lock_guard<std::mutex> l(s_->mu);
  s_->cancel = true;
  s_->cv.notify_all();
}

void Kernel::TaskLaunch::Run() {
  std::lock_guard<std::mutex> l(s_->mu);
  s_->run = true;
  ran_ = true;
  s_->cv.notify_all();
}

ErrnoOr<std::unique_ptr<Kernel::TaskLaunch>> Kernel::LaunchTask(std::shared_ptr<Task> t) {
  auto s = std::make_shared<TaskLaunch::State>();
  auto thread_done = [this] {
    std::lock_guard<std::mutex> l(mu_);
    if (--running_threads_ == 0) all_exited_.notify_all();
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    running_threads_++;
  }
  try {
    std::thread([t = std::move(t), s, thread_done]() mutable {
      const bool ok = CreateTaskContext(*t).ok();
      bool run = false;
      {
        std::unique_lock<std::mutex> l(s->mu);
        s->context = ok ? TaskLaunch::State::kReady : TaskLaunch::State::kFailed;
        s->cv.notify_all();
        if (ok) s->cv.wait(l, [&] { return s->run || s->cancel; });
        run = s->run;
      }
      if (run) {
        RunTask(t);
      } else {
        t->internals().ctx.reset();  // on the thread that made it (ptrace's tracer)
      }
      t.reset();
      thread_done();
    }).detach();
  } catch (const std::system_error& e) {
    // The host refused a thread (pids limit, memory): as Linux's clone does.
    spdlog::warn("cannot start a host thread for a new task: {}", e.what());
    thread_done();
    return Errno(EAGAIN);
  }
  std::unique_lock<std::mutex> l(s->mu);
  s->cv.wait(l, [&] { return s->context != TaskLaunch::State::kPending; });
  if (s->context == TaskLaunch::State::kFailed) return Errno(EAGAIN);
  return std::make_unique<TaskLaunch>(s);
}

int Kernel::WaitUntilSandboxExit() {
  std::unique_lock<std::mutex> l(mu_);
  all_exited_.wait(l, [this] { return running_threads_ == 0; });
  return init_status_;
}

void Kernel::OnInitExitLocked(int wait_status) {
  if (init_exited_) return;
  init_exited_ = true;
  init_status_ = wait_status;
  // As when a PID namespace's init dies: every other process gets SIGKILL.
  for (auto& [tid, wt] : tasks_) {
    if (auto t = wt.lock()) {
      t->internals().killed = true;
      TaskOps::Interrupt(*t);
    }
  }
}

void Kernel::ReportUnimplemented(int nr, const char* name) {
  std::lock_guard<std::mutex> l(unimpl_mu_);
  if (nr >= 0 && nr < static_cast<int>(unimpl_reported_.size())) {
    if (unimpl_reported_[nr]) return;
    unimpl_reported_[nr] = true;
  }
  spdlog::warn("unimplemented syscall {} ({}): returning ENOSYS", name ? name : "?", nr);
}

}  // namespace palisade
