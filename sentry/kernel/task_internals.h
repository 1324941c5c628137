// Task::Internals: the task state only sentry/kernel touches. Fields are
// guarded by Kernel::mu() unless marked (own thread) = only the task's
// own host thread reads/writes them.
#pragma once

#include <sched.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "platform/platform.h"
#include "sentry/kernel/cpu_clock.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/signal_types.h"
#include "sentry/kernel/task.h"

namespace palisade {

// Lets a vfork parent sleep until the child execs or exits.
struct VforkCompletion {
  std::atomic<bool> done{false};
  std::weak_ptr<Task> parent;
};

struct Task::Internals {
  mutable std::mutex cred_mu;
  Credentials creds;  // guarded by cred_mu
  std::string comm;   // guarded by cred_mu

  std::unique_ptr<platform::Context> ctx;  // (own thread)
  std::optional<platform::FpState> initial_fp;  // (own thread) set at clone
  std::atomic<platform::Context*> ctx_for_interrupt{nullptr};
  TaskCpuClock cpu;  // user and system CPU time (cpu_clock.h)

  // Signals.
  SigSet mask;
  std::optional<SigSet> saved_mask;  // restored after handler setup / syscall exit
  // Signals rt_sigtimedwait unblocked only to wait for them (Linux's
  // real_blocked): still "blocked" when deciding whether to discard a
  // signal whose action is to ignore it.
  SigSet real_blocked;

  // Scheduling (per thread, inherited by clone): the policy is recorded and
  // reported, the nice value too; neither changes how the host schedules.
  int sched_policy = SCHED_OTHER;
  int sched_priority = 0;
  int nice = 0;
  std::deque<siginfo_t> pending;     // thread-directed
  KernelStack altstack{0, SS_DISABLE, 0, 0};

  // Exit.
  std::atomic<bool> killed{false};  // must exit at the next opportunity
  bool exited = false;
  int exit_wait_status = 0;  // (own thread) set by exit(2)
  uint64_t clear_child_tid = 0;  // (own thread)
  uint64_t robust_list = 0;      // (own thread)
  std::shared_ptr<VforkCompletion> vfork;  // set in a vfork child

  // Syscall state (own thread).
  bool regs_replaced = false;  // handler rewrote all registers (sigreturn, exec)
  int64_t restart_nr = -1;     // syscall to restart after ERESTART*
  int64_t start_mono_ns = 0;
};

// Signal delivery and generation (task_signals.cc).
struct TaskOps {
  // Queues a signal for a thread (tgkill) or the whole group (kill).
  // REQUIRES: Kernel::mu() held.
  static void SendToTaskLocked(Task& t, const siginfo_t& info);
  static void SendToGroupLocked(ThreadGroup& tg, const siginfo_t& info);
  // Makes every thread of tg exit with wait status `status`.
  static void GroupExitLocked(ThreadGroup& tg, int status);
  // Before returning to the app: restart handling, then deliver one signal.
  static void DeliverPending(Task& t, int64_t syscall_result_errno);
  static void Interrupt(Task& t);
  // Sleeps while t's group is stopped (job control), until SIGCONT or kill.
  static void WaitWhileStopped(Task& t);
  // Discards pending instances of the signals in mask, group-wide and
  // per thread. REQUIRES: Kernel::mu() held.
  static void DropPendingLocked(ThreadGroup& tg, uint64_t mask);
  // Removes and returns the lowest-numbered queued signal in `wanted`.
  static bool TakeLowestLocked(std::deque<siginfo_t>& q, uint64_t wanted, siginfo_t* out);
};

siginfo_t MakeKillInfo(int sig, int code, int sender_pid, uint32_t sender_uid);

}  // namespace palisade
