// Task: one application thread (Linux's task_struct). Each Task runs on its
// own sentry host thread, which drives the task's platform::Context in the
// loop of task_run.cc: switch to the app, take the event (syscall, fault,
// signal), handle it, deliver pending signals, switch again. Syscall
// handlers get the Task that made the call and reach everything through it.
//
//   SyscallResult Getcwd(Task& t, const SyscallArgs& a) {
//     VirtualPath cwd = t.fs().cwd();
//     ...
//     PAL_TRY_ERRNO(t.CopyOut(a[0].Ptr(), s.data(), s.size() + 1));
//   }
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "base/errno.h"
#include "platform/platform.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/signal_types.h"
#include "sentry/kernel/waiter.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fs_context.h"

namespace palisade {

class Kernel;
class ThreadGroup;

class Task : public std::enable_shared_from_this<Task> {
 public:
  Task(Kernel& k, std::shared_ptr<ThreadGroup> tg, int tid);
  ~Task();

  Kernel& kernel() const { return kernel_; }
  ThreadGroup& thread_group() const { return *tg_; }
  const std::shared_ptr<ThreadGroup>& thread_group_ref() const { return tg_; }
  int tid() const { return tid_; }
  int tgid() const;  // = thread_group().pid()

  MemoryManager& mm() const { return *mm_; }
  const std::shared_ptr<MemoryManager>& mm_ref() const { return mm_; }
  FdTable& fds() const { return *fds_; }
  const std::shared_ptr<FdTable>& fds_ref() const { return fds_; }
  FsContext& fs() const { return *fs_; }
  const std::shared_ptr<FsContext>& fs_ref() const { return fs_; }
  Credentials creds() const;
  void set_creds(const Credentials& c);

  platform::Registers& regs() { return regs_; }
  std::string comm() const;
  void set_comm(std::string name);

  // App memory access (through mm()).
  Errno CopyIn(uint64_t addr, void* dst, size_t n) { return mm_->CopyIn(addr, dst, n); }
  Errno CopyOut(uint64_t addr, const void* src, size_t n) { return mm_->CopyOut(addr, src, n); }
  ErrnoOr<std::string> CopyInString(uint64_t addr, size_t max = 4096) { return mm_->CopyInString(addr, max); }
  template <typename T>
  Errno CopyInObj(uint64_t addr, T& obj) { return CopyIn(addr, &obj, sizeof(T)); }
  template <typename T>
  Errno CopyOutObj(uint64_t addr, const T& obj) { return CopyOut(addr, &obj, sizeof(T)); }

  // Sleeps until waiter() is notified (returns Ok), a signal becomes
  // pending for this task or the task must exit (EINTR), the deadline
  // (CLOCK_MONOTONIC ns, -1 = none) passes (ETIMEDOUT), or host_fd (if
  // >= 0) reports host_events. The caller registers waiter() on the wait
  // queues it cares about before checking its condition, then blocks.
  Errno Block(int64_t deadline_mono_ns = -1, int host_fd = -1, short host_events = 0);
  Waiter& waiter() { return waiter_; }
  // True if a signal is pending and unblocked, or the task is being killed.
  bool Interrupted() const;

  // Signals (implemented in task_signals.cc).
  SigSet signal_mask() const;
  void set_signal_mask(SigSet m);
  // Saved mask restored after a handler returns (sigsuspend, pselect...).
  void set_saved_mask(SigSet m);

  // --- kernel internals below; handlers outside sentry/kernel avoid them.
  void set_mm(std::shared_ptr<MemoryManager> mm) { mm_ = std::move(mm); }
  void set_fds(std::shared_ptr<FdTable> f) { fds_ = std::move(f); }
  void set_fs(std::shared_ptr<FsContext> f) { fs_ = std::move(f); }
  struct Internals;
  Internals& internals() { return *in_; }

 private:
  Kernel& kernel_;
  std::shared_ptr<ThreadGroup> tg_;
  int tid_;
  std::shared_ptr<MemoryManager> mm_;
  std::shared_ptr<FdTable> fds_;
  std::shared_ptr<FsContext> fs_;
  platform::Registers regs_{};
  Waiter waiter_;
  std::unique_ptr<Internals> in_;
  friend class Kernel;
  friend struct TaskOps;
};

// The task whose host thread is calling (null on non-task threads). Used
// where Linux uses `current` and an interface has no Task parameter
// (e.g. /proc/self's link target).
Task* CurrentTask();
void SetCurrentTask(Task* t);

// Current CLOCK_MONOTONIC in ns, and helpers for deadlines.
int64_t MonotonicNowNs();

}  // namespace palisade
