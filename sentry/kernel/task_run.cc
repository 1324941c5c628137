#include "sentry/kernel/task_run.h"

#include <sys/syscall.h>

#include "spdlog/spdlog.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_exit.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/syscall_table.h"

namespace palisade {
namespace {

// A synchronous fault or trap: delivered even if blocked or ignored (the
// action is reset to default then, as force_sig_info does).
void ForceSignal(Task& t, const siginfo_t& info) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  auto& in = t.internals();
  auto& act = t.thread_group().handlers->actions[info.si_signo];
  if (act.handler == reinterpret_cast<uint64_t>(SIG_IGN) || in.mask.Has(info.si_signo)) {
    act.handler = reinterpret_cast<uint64_t>(SIG_DFL);
    in.mask.Remove(info.si_signo);
  }
  in.pending.push_front(info);
}

void HandleFault(Task& t, const platform::Event& ev) {
  FaultResult r = t.mm().HandleFault(ev.fault_addr, ev.fault_code);
  if (r == FaultResult::kHandled) return;
  siginfo_t info{};
  info.si_signo = r == FaultResult::kBusError ? SIGBUS : SIGSEGV;
  if (r == FaultResult::kBusError) {
    info.si_code = BUS_ADRERR;
  } else {
    info.si_code = r == FaultResult::kAccessError ? SEGV_ACCERR : SEGV_MAPERR;
  }
  info.si_addr = reinterpret_cast<void*>(ev.fault_addr);
  ForceSignal(t, info);
}

}  // namespace

Errno CreateTaskContext(Task& t) {
  auto ctx = t.kernel().platform().NewContext();
  if (!ctx.ok()) {
    spdlog::error("task {}: cannot create platform context: {}", t.tid(), ctx.status().ToString());
    return Errno(EAGAIN);
  }
  // systrap makes the host thread here: a clone the host refuses fails
  // with EAGAIN instead of killing the process at its first run.
  if (Errno e = t.mm_ref() ? (*ctx)->Prepare(t.mm().address_space()) : Errno::Ok(); !e.ok()) {
    spdlog::warn("task {}: cannot prepare platform context: {}", t.tid(), e.Name());
    return Errno(EAGAIN);
  }
  t.internals().ctx = std::move(*ctx);
  return Errno::Ok();
}

void RunTask(const std::shared_ptr<Task>& tp) {
  Task& t = *tp;
  auto& in = t.internals();
  SetCurrentTask(&t);
  if (!in.ctx && !CreateTaskContext(t).ok()) {
    ExitTask(t, /*wait_status=*/SIGKILL, /*group=*/true);
    return;
  }
  in.cpu.Attach(in.ctx.get());  // on the task's own thread: its CPU clock is the system time
  if (in.initial_fp) {
    in.ctx->SetFpState(*in.initial_fp);
    in.initial_fp.reset();
  }
  in.ctx_for_interrupt.store(in.ctx.get());
  // A signal may have arrived before the context existed.
  if (t.Interrupted()) in.ctx->Interrupt();
  TaskOps::DeliverPending(t, 0);

  while (!in.killed) {
    TaskOps::WaitWhileStopped(t);
    if (in.killed) break;
    platform::Event ev = in.ctx->Switch(t.mm().address_space(), t.regs());
    switch (ev.kind) {
      case platform::EventKind::kSyscall: {
        in.regs_replaced = false;
        int64_t r = DispatchSyscall(t);
        if (!in.regs_replaced) t.regs().rax = static_cast<uint64_t>(r);
        TaskOps::DeliverPending(t, r);
        continue;
      }
      case platform::EventKind::kFault:
        HandleFault(t, ev);
        break;
      case platform::EventKind::kSignal:
        ForceSignal(t, ev.info);
        break;
      case platform::EventKind::kInterrupted:
        break;
      case platform::EventKind::kDied: {
        spdlog::error("task {}: host stub died unexpectedly", t.tid());
        std::lock_guard<std::mutex> l(t.kernel().mu());
        TaskOps::GroupExitLocked(t.thread_group(), SIGKILL);
        break;
      }
    }
    TaskOps::DeliverPending(t, 0);
  }
  ExitTask(t, in.exit_wait_status, false);
  {
    // Senders call Interrupt() under the kernel lock; see TaskOps::Interrupt.
    std::lock_guard<std::mutex> l(t.kernel().mu());
    in.ctx_for_interrupt.store(nullptr);
  }
  in.ctx.reset();  // kills the stub
}

}  // namespace palisade
