// Kernel: the sandbox-wide state of the sentry. Owns the MemoryFile and the
// Platform, the PID namespace (init is PID 1), the hostname, the timer
// service and the futex table, and runs one host thread per Task.
//
// Lock order: Kernel::mu() (the task-set lock: pid tables, the process
// tree, signal state, exit state) is taken before any MemoryManager,
// FdTable or WaitQueue mutex, and never while blocked.
#pragma once

#include <sys/resource.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/errno.h"
#include "platform/platform.h"
#include "sentry/kernel/cpu_timer_sampler.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/timer_service.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/vfs.h"

namespace palisade {

class SyscallRecorder;
class Task;
class ThreadGroup;

struct KernelOptions {
  std::string hostname = "palisade";
  bool strace = false;
  SyscallRecorder* recorder = nullptr;  // --report; outlives the Kernel
};

namespace loader {
class Vdso;
}

class Kernel {
 public:
  Kernel(std::unique_ptr<MemoryFile> mf, std::unique_ptr<platform::Platform> p, KernelOptions opts);
  ~Kernel();

  MemoryFile& memory_file() { return *mf_; }
  platform::Platform& platform() { return *platform_; }
  FutexTable& futexes() { return futexes_; }
  TimerService& timers() { return timers_; }
  // Drives the CPU-time timers. Guarded by mu().
  CpuTimerSampler& cpu_timer_sampler() { return cpu_timer_sampler_; }
  // The vDSO every exec maps, made on first use; null if it could not be
  // made (programs then run without one).
  loader::Vdso* vdso();
  std::mutex& mu() { return mu_; }

  std::string hostname() const;
  void set_hostname(std::string h);
  bool strace() const { return opts_.strace; }
  // The workload report's recorder (sentry/syscalls/report.h), or null.
  SyscallRecorder* recorder() const { return opts_.recorder; }
  int64_t boot_time_mono_ns() const { return boot_mono_ns_; }

  void set_mount_namespace(std::shared_ptr<vfs::MountNamespace> ns) { mntns_ = std::move(ns); }
  vfs::MountNamespace& mount_namespace() { return *mntns_; }

  // PID namespace. REQUIRES: mu() held for the *Locked variants.
  int AllocatePidLocked();
  void RegisterTaskLocked(const std::shared_ptr<Task>& t);
  void UnregisterTaskLocked(int tid);
  std::shared_ptr<Task> TaskByTidLocked(int tid) const;
  std::shared_ptr<Task> TaskByTid(int tid);
  std::shared_ptr<ThreadGroup> ThreadGroupByPid(int pid);
  std::vector<std::shared_ptr<ThreadGroup>> ThreadGroupsLocked() const;
  std::vector<std::shared_ptr<ThreadGroup>> ThreadGroups();
  std::shared_ptr<ThreadGroup> init() const { return init_; }
  void set_init(std::shared_ptr<ThreadGroup> tg) { init_ = std::move(tg); }
  // Processes started by `exec` have no parent in the sandbox (like a
  // process that joined the container with setns): they are roots of the
  // process tree next to init, so kill(), process groups, ps and /proc see
  // them. Removed once the front end has collected the exit status.
  void AddExecRootLocked(std::shared_ptr<ThreadGroup> tg);
  void RemoveExecRootLocked(const ThreadGroup* tg);

  // Starts t's host thread, which runs the task until it exits.
  void StartTask(std::shared_ptr<Task> t);
  // Starts t's host thread in two steps, so clone(2) can fail with EAGAIN
  // instead of making a task that cannot run: the thread first creates
  // t's platform context (on itself, as ptrace requires), and LaunchTask
  // returns once it has. EAGAIN if the host refuses the thread or the
  // context (the container's pids limit, say). The task runs once the
  // launch's Run() is called (after it is registered); a launch dropped
  // without Run() ends its thread, running nothing.
  class TaskLaunch;
  ErrnoOr<std::unique_ptr<TaskLaunch>> LaunchTask(std::shared_ptr<Task> t);
  // Blocks until every task has exited; returns init's wait status.
  int WaitUntilSandboxExit();
  // Called when init's thread group exits: kills everything else.
  void OnInitExitLocked(int wait_status);

  // Logs "unimplemented syscall" once per number.
  void ReportUnimplemented(int nr, const char* name);

 private:
  std::unique_ptr<MemoryFile> mf_;
  std::unique_ptr<platform::Platform> platform_;
  KernelOptions opts_;
  FutexTable futexes_;
  CpuTimerSampler cpu_timer_sampler_;  // before timers_: its ticks run there
  TimerService timers_;
  std::shared_ptr<vfs::MountNamespace> mntns_;
  int64_t boot_mono_ns_;

  mutable std::mutex mu_;
  std::condition_variable all_exited_;
  std::string hostname_;
  int next_pid_ = 1;
  std::map<int, std::weak_ptr<Task>> tasks_;
  std::shared_ptr<ThreadGroup> init_;
  std::vector<std::shared_ptr<ThreadGroup>> exec_roots_;
  std::once_flag vdso_once_;
  std::unique_ptr<loader::Vdso> vdso_;  // after mf_: its pages are in it
  int running_threads_ = 0;
  bool init_exited_ = false;
  int init_status_ = 0;
  std::mutex unimpl_mu_;
  std::vector<bool> unimpl_reported_;
};

class Kernel::TaskLaunch {
 public:
  struct State;
  explicit TaskLaunch(std::shared_ptr<State> s) : s_(std::move(s)) {}
  TaskLaunch(const TaskLaunch&) = delete;
  TaskLaunch& operator=(const TaskLaunch&) = delete;
  ~TaskLaunch();
  void Run();

 private:
  std::shared_ptr<State> s_;
  bool ran_ = false;
};

}  // namespace palisade
