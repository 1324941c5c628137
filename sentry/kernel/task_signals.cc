// Signal generation and delivery: queues, default actions, handler frames,
// and syscall restart at syscall exit.

#include <cstring>
#include <vector>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000  // kernel ABI; glibc hides it
#endif

#include "spdlog/spdlog.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_frame.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {
namespace {

enum class DefaultAction : uint8_t { kTerm, kCore, kIgnore, kStop, kCont };

constexpr DefaultAction DefaultFor(int sig) {
  switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
    case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
      return DefaultAction::kCore;
    case SIGCHLD: case SIGURG: case SIGWINCH:
      return DefaultAction::kIgnore;
    case SIGCONT:
      return DefaultAction::kCont;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return DefaultAction::kStop;
    default:
      return DefaultAction::kTerm;
  }
}

bool IsRestartCode(int64_t r) {
  return r == -kERESTARTSYS || r == -kERESTARTNOINTR || r == -kERESTARTNOHAND ||
         r == -kERESTART_RESTARTBLOCK;
}

// Would sending sig to tg be a no-op? (ignored and not blocked everywhere
// that matters). Init ignores default-action signals sent from inside its
// namespace, as Linux's SIGNAL_UNKILLABLE does.
bool IgnoredLocked(ThreadGroup& tg, const siginfo_t& info, bool blocked) {
  int sig = info.si_signo;
  // The front end forwards host signals with si_pid 0: they come from the
  // parent namespace, which can force only SIGKILL and SIGSTOP on init
  // (Linux's sig_task_ignored with `force`): `kill <id> TERM` of a
  // container whose init has no handler does nothing, as under runc.
  bool from_outside = info.si_code == SI_USER && info.si_pid == 0;
  const auto& act = tg.handlers->actions[sig];
  if (sig == SIGKILL) return false;
  // A blocked signal is always queued: the handler may change before it
  // is unblocked (Linux's sig_ignored checks the mask first).
  if (blocked) return false;
  if (act.handler == reinterpret_cast<uint64_t>(SIG_IGN)) return !blocked;
  if (act.handler == reinterpret_cast<uint64_t>(SIG_DFL)) {
    if (tg.pid() == 1 && !(from_outside && sig == SIGSTOP)) return true;
    DefaultAction d = DefaultFor(sig);
    if (d == DefaultAction::kIgnore || d == DefaultAction::kCont) return true;
  }
  return false;
}

// Faults raised by the app's own instructions are forced: they kill even
// init. Everything else with a default action is dropped for init, except
// SIGKILL and SIGSTOP from outside the sandbox (SIGNAL_UNKILLABLE).
bool InitIgnores(const ThreadGroup& tg, const siginfo_t& info) {
  if (tg.pid() != 1) return false;
  int sig = info.si_signo;
  if (info.si_code == SI_USER && info.si_pid == 0 && (sig == SIGKILL || sig == SIGSTOP)) return false;
  bool fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
  if (fault && info.si_code > 0 && info.si_code != SI_KERNEL) return false;
  return true;
}

bool AlreadyPending(const std::deque<siginfo_t>& q, int sig) {
  if (sig >= SIGRTMIN) return false;  // real-time signals queue
  for (const auto& i : q)
    if (i.si_signo == sig) return true;
  return false;
}

}  // namespace

siginfo_t MakeKillInfo(int sig, int code, int sender_pid, uint32_t sender_uid) {
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = code;
  info.si_pid = sender_pid;
  info.si_uid = sender_uid;
  return info;
}

void TaskOps::Interrupt(Task& t) {
  t.waiter().Notify();
  if (auto* ctx = t.internals().ctx_for_interrupt.load()) ctx->Interrupt();
}

void TaskOps::GroupExitLocked(ThreadGroup& tg, int status) {
  if (!tg.group_exiting) {
    tg.group_exiting = true;
    tg.group_exit_status = status;
  }
  for (auto& t : tg.tasks) {
    t->internals().killed = true;
    Interrupt(*t);
  }
}

namespace {

// Tells the parent about a stop or continue: wait queue plus SIGCHLD
// (unless the parent asked for SA_NOCLDSTOP).
void NotifyParentJobControlLocked(ThreadGroup& tg, int code, int status) {
  auto parent = tg.parent.lock();
  if (!parent) return;
  parent->child_events.Notify(kEventAll);
  if (parent->handlers->actions[SIGCHLD].flags & SA_NOCLDSTOP) return;
  siginfo_t info{};
  info.si_signo = SIGCHLD;
  info.si_code = code;
  info.si_pid = tg.pid();
  info.si_status = status;
  TaskOps::SendToGroupLocked(*parent, info);
}

constexpr uint64_t kStopSignals =
    SigSet::Bit(SIGSTOP) | SigSet::Bit(SIGTSTP) | SigSet::Bit(SIGTTIN) | SigSet::Bit(SIGTTOU);

// Linux's prepare_signal: SIGCONT resumes a stopped group and cancels
// pending stops; a stop signal cancels a pending SIGCONT. Both happen when
// the signal is sent, whatever its handler.
void PrepareSignalLocked(ThreadGroup& tg, int sig) {
  if (sig == SIGCONT) {
    TaskOps::DropPendingLocked(tg, kStopSignals);
    if (tg.stopped) {
      tg.stopped = false;
      tg.stop_report = false;
      tg.cont_report = true;
      for (auto& t : tg.tasks) t->waiter().Notify();
      NotifyParentJobControlLocked(tg, CLD_CONTINUED, SIGCONT);
    }
  } else if (SigSet::Bit(sig) & kStopSignals) {
    TaskOps::DropPendingLocked(tg, SigSet::Bit(SIGCONT));
  }
}

void StopGroupLocked(ThreadGroup& tg, int sig) {
  if (tg.stopped || tg.group_exiting) return;
  tg.stopped = true;
  tg.stop_signal = sig;
  tg.stop_report = true;
  tg.cont_report = false;
  for (auto& t : tg.tasks) TaskOps::Interrupt(*t);
  NotifyParentJobControlLocked(tg, CLD_STOPPED, sig);
}

}  // namespace

void TaskOps::DropPendingLocked(ThreadGroup& tg, uint64_t signals) {
  std::vector<siginfo_t> timer_signals;
  auto drop = [&](std::deque<siginfo_t>& q) {
    q.erase(std::remove_if(q.begin(), q.end(),
                           [&](auto& i) {
                             if (!(SigSet::Bit(i.si_signo) & signals)) return false;
                             if (i.si_code == SI_TIMER) timer_signals.push_back(i);
                             return true;
                           }),
            q.end());
  };
  drop(tg.shared_pending);
  for (auto& t : tg.tasks) drop(t->internals().pending);
  // A discarded POSIX timer signal counts as taken: a periodic timer would
  // otherwise wait for it forever before reloading.
  for (auto& i : timer_signals) OnSignalDequeuedLocked(tg, i);
}

void TaskOps::WaitWhileStopped(Task& t) {
  for (;;) {
    {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      if (!t.thread_group().stopped || t.internals().killed) return;
    }
    t.waiter().WaitFor(100);
  }
}

void TaskOps::SendToTaskLocked(Task& t, const siginfo_t& info) {
  ThreadGroup& tg = t.thread_group();
  int sig = info.si_signo;
  if (tg.group_exiting || t.internals().exited) return;
  if (sig == SIGKILL) {
    GroupExitLocked(tg, SIGKILL);
    return;
  }
  auto& in = t.internals();
  PrepareSignalLocked(tg, sig);
  if (IgnoredLocked(tg, info, in.mask.Has(sig) || in.real_blocked.Has(sig))) return;
  if (AlreadyPending(in.pending, sig)) return;
  in.pending.push_back(info);
  tg.signalfd_queue.Notify(POLLIN | POLLRDNORM);
  if (!in.mask.Has(sig)) Interrupt(t);
}

void TaskOps::SendToGroupLocked(ThreadGroup& tg, const siginfo_t& info) {
  int sig = info.si_signo;
  if (tg.group_exiting || tg.tasks.empty()) return;
  if (sig == SIGKILL) {
    GroupExitLocked(tg, SIGKILL);
    return;
  }
  PrepareSignalLocked(tg, sig);
  // Linux's sig_ignored() asks the thread the signal is addressed to (the
  // leader, for kill()): queued if it blocks the signal, or had it blocked
  // before a sigwait that is waiting for it now (real_blocked). A thread
  // waiting in sigwait for it keeps it too, whatever the leader does, as
  // SIGCHLD for the thread that forked does on Linux.
  bool blocked = false;
  if (auto leader = tg.LeaderLocked()) {
    blocked = leader->internals().mask.Has(sig) || leader->internals().real_blocked.Has(sig);
  }
  for (auto& t : tg.tasks) {
    const auto& in = t->internals();
    blocked |= in.real_blocked.Has(sig) && !in.mask.Has(sig);  // blocked before, awaited now
  }
  if (IgnoredLocked(tg, info, blocked)) return;
  if (AlreadyPending(tg.shared_pending, sig)) return;
  tg.shared_pending.push_back(info);
  tg.signalfd_queue.Notify(POLLIN | POLLRDNORM);
  for (auto& t : tg.tasks) {
    if (!t->internals().mask.Has(sig)) {
      Interrupt(*t);
      return;
    }
  }
}

namespace {

}  // namespace

bool TaskOps::TakeLowestLocked(std::deque<siginfo_t>& q, uint64_t wanted, siginfo_t* out) {
  // signal(7): standard signals before real-time ones, lower numbers
  // first; queued instances of one signal keep their order.
  auto best = q.end();
  for (auto it = q.begin(); it != q.end(); ++it) {
    if ((SigSet::Bit(it->si_signo) & wanted) && (best == q.end() || it->si_signo < best->si_signo)) best = it;
  }
  if (best == q.end()) return false;
  *out = *best;
  q.erase(best);
  return true;
}

namespace {

bool Dequeue(Task& t, siginfo_t* out) {
  const uint64_t unblocked = ~t.internals().mask.bits;
  if (!TaskOps::TakeLowestLocked(t.internals().pending, unblocked, out) &&
      !TaskOps::TakeLowestLocked(t.thread_group().shared_pending, unblocked, out)) {
    return false;
  }
  OnSignalDequeuedLocked(t.thread_group(), *out);
  return true;
}

void Restart(Task& t, int64_t r) {
  auto& regs = t.regs();
  regs.rip -= 2;  // back onto the `syscall` instruction
  regs.rax = regs.orig_rax;
  if (r == -kERESTART_RESTARTBLOCK) regs.rax = 219;  // restart_syscall
}

bool OnAltStack(const KernelStack& ss, uint64_t sp) {
  return !(ss.flags & SS_DISABLE) && sp > ss.sp && sp - ss.sp <= ss.size;
}

// Pushes the frame and points the registers at the handler.
Errno SetupFrame(Task& t, const siginfo_t& info, const KernelSigaction& act, SigSet old_mask) {
  auto& regs = t.regs();
  auto& in = t.internals();
  uint64_t sp = regs.rsp;
  bool on_alt = OnAltStack(in.altstack, sp);
  if ((act.flags & SA_ONSTACK) && !(in.altstack.flags & SS_DISABLE) && !on_alt) {
    sp = in.altstack.sp + in.altstack.size;
  } else {
    sp -= 128;  // the red zone below the interrupted code's rsp
  }
  platform::FpState fp{};
  if (in.ctx) in.ctx->GetFpState(fp);
  sp -= sizeof(fp);
  sp &= ~uint64_t(63);
  uint64_t fp_addr = sp;
  sp -= sizeof(RtSigframe);
  sp = (sp & ~uint64_t(15)) - 8;  // as if `call`ed: (sp + 8) % 16 == 0

  RtSigframe f{};
  f.pretcode = (act.flags & SA_RESTORER) ? act.restorer : 0;
  f.uc.flags = kUcSigcontextSs;
  f.uc.stack = in.altstack;
  f.uc.stack.flags = (in.altstack.flags & SS_DISABLE) ? SS_DISABLE : (on_alt ? SS_ONSTACK : 0);
  SigContext& m = f.uc.mcontext;
  m.r8 = regs.r8; m.r9 = regs.r9; m.r10 = regs.r10; m.r11 = regs.r11;
  m.r12 = regs.r12; m.r13 = regs.r13; m.r14 = regs.r14; m.r15 = regs.r15;
  m.rdi = regs.rdi; m.rsi = regs.rsi; m.rbp = regs.rbp; m.rbx = regs.rbx;
  m.rdx = regs.rdx; m.rax = regs.rax; m.rcx = regs.rcx; m.rsp = regs.rsp;
  m.rip = regs.rip; m.eflags = regs.eflags;
  m.cs = static_cast<uint16_t>(regs.cs);
  m.ss = static_cast<uint16_t>(regs.ss);
  m.oldmask = old_mask.bits;
  m.fpstate = fp_addr;
  if (info.si_signo == SIGSEGV || info.si_signo == SIGBUS) {
    m.cr2 = reinterpret_cast<uint64_t>(info.si_addr);
    m.trapno = 14;
  }
  f.uc.sigmask = old_mask.bits;
  f.info = info;

  PAL_TRY_ERRNO(t.mm().CopyOut(fp_addr, &fp, sizeof(fp)));
  PAL_TRY_ERRNO(t.mm().CopyOut(sp, &f, sizeof(f)));

  regs.rsp = sp;
  regs.rip = act.handler;
  regs.rdi = static_cast<uint64_t>(info.si_signo);
  regs.rsi = sp + offsetof(RtSigframe, info);
  regs.rdx = sp + offsetof(RtSigframe, uc);
  regs.rax = 0;
  regs.eflags &= ~uint64_t(0x400 | 0x100);  // clear DF and TF
  return Errno::Ok();
}

}  // namespace

void TaskOps::DeliverPending(Task& t, int64_t r) {
  auto& in = t.internals();
  Kernel& k = t.kernel();
  bool restart = IsRestartCode(r);
  std::unique_lock<std::mutex> l(k.mu());
  for (;;) {
    if (in.killed) return;
    siginfo_t info;
    if (!Dequeue(t, &info)) break;
    int sig = info.si_signo;
    KernelSigaction act = t.thread_group().handlers->actions[sig];
    if (act.handler == reinterpret_cast<uint64_t>(SIG_IGN)) continue;
    if (act.handler == reinterpret_cast<uint64_t>(SIG_DFL)) {
      DefaultAction d = DefaultFor(sig);
      if (d == DefaultAction::kIgnore || d == DefaultAction::kCont) continue;
      if (InitIgnores(t.thread_group(), info)) continue;
      if (d == DefaultAction::kStop) {
        StopGroupLocked(t.thread_group(), sig);
        break;  // the run loop sleeps until SIGCONT; restart settles below
      }
      // A fatal signal kills the whole group, with a core flag for kCore.
      GroupExitLocked(t.thread_group(), sig | (d == DefaultAction::kCore ? 0x80 : 0));
      return;
    }
    // A handler runs: settle the interrupted syscall's result first.
    if (restart) {
      restart = false;
      bool do_restart = r == -kERESTARTNOINTR || (r == -kERESTARTSYS && (act.flags & SA_RESTART));
      if (do_restart) {
        Restart(t, r);
      } else {
        t.regs().rax = static_cast<uint64_t>(-EINTR);
      }
    }
    SigSet old_mask = in.saved_mask ? *in.saved_mask : in.mask;
    in.saved_mask.reset();
    SigSet new_mask = in.mask;
    new_mask.bits |= act.mask;
    if (!(act.flags & SA_NODEFER)) new_mask.Add(sig);
    new_mask.bits &= ~kUnblockableSignals;
    if (act.flags & SA_RESETHAND) {
      auto& a = t.thread_group().handlers->actions[sig];
      a.handler = reinterpret_cast<uint64_t>(SIG_DFL);
      a.flags &= ~uint64_t(SA_SIGINFO);
    }
    l.unlock();
    Errno e = SetupFrame(t, info, act, old_mask);
    l.lock();
    if (!e.ok()) {
      // Linux forces SIGSEGV when the frame cannot be written.
      spdlog::debug("task {}: cannot push signal frame for {}: {}", t.tid(), sig, e.Name());
      GroupExitLocked(t.thread_group(), SIGSEGV | 0x80);
      return;
    }
    in.mask = new_mask;
  }
  if (restart) Restart(t, r);
  if (in.saved_mask) {
    in.mask = *in.saved_mask;
    in.saved_mask.reset();
  }
}

}  // namespace palisade
