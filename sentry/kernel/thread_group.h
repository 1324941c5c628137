// ThreadGroup: a process (Linux's signal_struct + the tgid). Holds the
// threads, the parent/children links, the signal handlers (shared by all
// threads), process-directed pending signals, exit state, the process
// group and session, and resource limits. All mutable fields are guarded
// by Kernel::mu() unless noted.
#pragma once

#include <sys/resource.h>

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sentry/kernel/cpu_clock.h"
#include "sentry/kernel/interval_timer.h"
#include "sentry/kernel/signal_types.h"
#include "sentry/kernel/waiter.h"

namespace palisade {

class Task;
class Kernel;
class Terminal;

struct SignalHandlers {
  std::array<KernelSigaction, kNumSignals + 1> actions{};  // index = signal
};

class ThreadGroup : public std::enable_shared_from_this<ThreadGroup> {
 public:
  ThreadGroup(Kernel& k, int pid) : kernel_(k), pid_(pid) {}
  Kernel& kernel() const { return kernel_; }
  int pid() const { return pid_; }

  // --- guarded by Kernel::mu()
  std::vector<std::shared_ptr<Task>> tasks;  // live threads, leader first
  std::weak_ptr<ThreadGroup> parent;
  std::vector<std::shared_ptr<ThreadGroup>> children;  // incl. zombies
  std::shared_ptr<SignalHandlers> handlers = std::make_shared<SignalHandlers>();
  std::deque<siginfo_t> shared_pending;
  bool group_exiting = false;
  int group_exit_status = 0;  // wait status once group_exiting
  bool zombie = false;        // all threads gone, not yet reaped
  // Job control: a group stop (SIGSTOP, SIGTSTP ...) until SIGCONT.
  bool stopped = false;
  int stop_signal = 0;
  bool stop_report = false;  // a stop not yet reported to wait(WUNTRACED)
  bool cont_report = false;  // a continue not yet reported to wait(WCONTINUED)
  int exit_signal = SIGCHLD;  // sent to parent at exit (clone's low byte)
  int pgid = 0, sid = 0;
  bool did_exec = false;  // has called execve (guarded by Kernel::mu())
  bool child_subreaper = false;  // PR_SET_CHILD_SUBREAPER: adopts orphaned descendants
  // The session's controlling terminal (a pty), or null. Set by
  // TIOCSCTTY (or the first open of a pty by a session leader), shared by
  // the session's processes, inherited over fork, dropped by setsid.
  std::shared_ptr<Terminal> ctty;
  std::array<struct rlimit, RLIM_NLIMITS> rlimits{};
  int64_t start_mono_ns = 0;
  // CPU time (cpu_clock.h) of the threads that have exited, and of the
  // reaped children (each with its own reaped children), as getrusage(2)
  // reports them; peak resident set sizes likewise (KiB).
  CpuTimes exited_threads_cpu;
  CpuTimes children_cpu;
  int64_t maxrss_kb = 0, children_maxrss_kb = 0;
  // POSIX timers and ITIMER_VIRTUAL/ITIMER_PROF (interval_timer.h).
  ProcessTimers timers;
  bool no_new_privs = false;
  int pdeath_signal = 0;
  bool dumpable = true;
  // ITIMER_REAL / alarm(): timer id in the kernel's TimerService, or 0.
  uint64_t itimer_real_id = 0;
  int64_t itimer_real_deadline_ns = 0, itimer_real_interval_ns = 0;

  // Notified (kEventAll) when a child exits or changes state; wait4 sleeps here.
  WaitQueue child_events;
  // Notified (POLLIN) whenever a signal is queued for the group or one of
  // its threads: signalfd readers and pollers sleep here (Linux's
  // sighand->signalfd_wqh).
  WaitQueue signalfd_queue;

  // The thread whose tid is the process id; once it has exited (a
  // pthread_exit() in main) the oldest live thread stands for the
  // process; null when none is left.
  std::shared_ptr<Task> LeaderLocked() const;
  // Wait status (for wait4) of this zombie; valid once zombie.
  int exit_status() const { return group_exit_status; }

 private:
  Kernel& kernel_;
  int pid_;
};

}  // namespace palisade
