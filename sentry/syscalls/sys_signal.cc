// Signal syscalls: actions, masks, sending, sigreturn, alt stacks, waits.
#include <signal.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_frame.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/handlers_tests.h"

namespace palisade {

// Used by pipes and the write path: EPIPE comes with SIGPIPE.
void SendSigpipe(Task& t) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  TaskOps::SendToTaskLocked(t, MakeKillInfo(SIGPIPE, SI_KERNEL, 0, 0));
}

namespace sys {
namespace {

bool ValidSignal(int sig) { return sig >= 1 && sig <= kNumSignals; }

// sigqueue(3)'s EAGAIN: a real-time signal sent with its own siginfo
// (not kill's SI_USER) finds the receiver's queue limit reached. As Linux
// does, RLIMIT_SIGPENDING of the receiver caps the signals queued for its
// real user across all processes, the new one included.
bool RtQueueFullLocked(Kernel& k, Task& target, const siginfo_t& info) {
  constexpr int kFirstRtSignal = 32;
  if (info.si_signo < kFirstRtSignal || info.si_code == SI_USER) return false;
  const uint64_t limit = target.thread_group().rlimits[RLIMIT_SIGPENDING].rlim_cur;
  if (limit == RLIM_INFINITY) return false;
  const uid_t uid = target.creds().ruid;
  uint64_t queued = 0;
  for (const auto& tg : k.ThreadGroupsLocked()) {
    for (const auto& th : tg->tasks) {
      if (th->creds().ruid == uid) queued += th->internals().pending.size();
    }
    auto leader = tg->LeaderLocked();
    if (leader && leader->creds().ruid == uid) queued += tg->shared_pending.size();
  }
  return queued + 1 > limit;
}

// Permission to signal (kill(2)): root, or real/effective uid matching the
// target's real or saved uid.
bool MaySignal(Task& sender, Task& target) {
  Credentials s = sender.creds(), d = target.creds();
  if (s.HasCap(5 /* CAP_KILL */)) return true;
  return s.ruid == d.ruid || s.ruid == d.suid || s.euid == d.ruid || s.euid == d.suid;
}

}  // namespace

SyscallResult RtSigaction(Task& t, const SyscallArgs& a) {
  int sig = a[0].Int();
  if (a[3].Size() != 8) return Errno(EINVAL);
  if (!ValidSignal(sig)) return Errno(EINVAL);
  KernelSigaction act{};
  if (a[1].Ptr()) {
    if (sig == SIGKILL || sig == SIGSTOP) return Errno(EINVAL);
    PAL_TRY_ERRNO(t.CopyInObj(a[1].Ptr(), act));
    act.mask &= ~kUnblockableSignals;
  }
  KernelSigaction old;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    ThreadGroup& tg = t.thread_group();
    old = tg.handlers->actions[sig];
    if (a[1].Ptr()) {
      tg.handlers->actions[sig] = act;
      // Setting SIG_IGN (or SIG_DFL for a default-ignored signal) discards
      // pending instances, as POSIX requires.
      bool ignore = act.handler == reinterpret_cast<uint64_t>(SIG_IGN) ||
                    (act.handler == 0 && (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH));
      if (ignore) TaskOps::DropPendingLocked(tg, SigSet::Bit(sig));
    }
  }
  if (a[2].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[2].Ptr(), old));
  return int64_t(0);
}

SyscallResult RtSigprocmask(Task& t, const SyscallArgs& a) {
  int how = a[0].Int();
  if (a[3].Size() != 8) return Errno(EINVAL);
  SigSet set;
  if (a[1].Ptr()) {
    if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) return Errno(EINVAL);
    PAL_TRY_ERRNO(t.CopyInObj(a[1].Ptr(), set.bits));
  }
  SigSet old;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    auto& in = t.internals();
    old = in.mask;
    if (a[1].Ptr()) {
      if (how == SIG_BLOCK) in.mask.bits |= set.bits;
      if (how == SIG_UNBLOCK) in.mask.bits &= ~set.bits;
      if (how == SIG_SETMASK) in.mask.bits = set.bits;
      in.mask.bits &= ~kUnblockableSignals;
    }
  }
  if (a[2].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[2].Ptr(), old.bits));
  return int64_t(0);
}

SyscallResult RtSigreturn(Task& t, const SyscallArgs&) {
  auto& regs = t.regs();
  auto& in = t.internals();
  uint64_t frame = regs.rsp - 8;  // the handler's `ret` popped pretcode
  RtSigframe f;
  if (!t.CopyInObj(frame, f).ok()) {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    TaskOps::GroupExitLocked(t.thread_group(), SIGSEGV | 0x80);
    return Errno(EFAULT);
  }
  const SigContext& m = f.uc.mcontext;
  regs.r8 = m.r8; regs.r9 = m.r9; regs.r10 = m.r10; regs.r11 = m.r11;
  regs.r12 = m.r12; regs.r13 = m.r13; regs.r14 = m.r14; regs.r15 = m.r15;
  regs.rdi = m.rdi; regs.rsi = m.rsi; regs.rbp = m.rbp; regs.rbx = m.rbx;
  regs.rdx = m.rdx; regs.rax = m.rax; regs.rcx = m.rcx; regs.rsp = m.rsp;
  regs.rip = m.rip;
  regs.eflags = (regs.eflags & ~kFixEflags) | (m.eflags & kFixEflags);
  regs.orig_rax = ~0ull;  // not in a syscall: nothing to restart
  if (m.fpstate) {
    platform::FpState fp;
    if (t.CopyInObj(m.fpstate, fp).ok() && in.ctx) in.ctx->SetFpState(fp);
  }
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    in.mask.bits = f.uc.sigmask & ~kUnblockableSignals;
    // Restore the alt stack unless the handler runs on it (sigaltstack rules).
    const KernelStack& ss = f.uc.stack;
    if (!(ss.flags & SS_DISABLE) && ss.size >= uint64_t(MINSIGSTKSZ)) {
      in.altstack = KernelStack{ss.sp, 0, 0, ss.size};
    } else if (ss.flags & SS_DISABLE) {
      in.altstack = KernelStack{0, SS_DISABLE, 0, 0};
    }
  }
  in.regs_replaced = true;
  return static_cast<int64_t>(regs.rax);
}

static SyscallResult SendToTask(Task& t, int tgid, int tid, int sig) {
  if (sig < 0 || sig > kNumSignals) return Errno(EINVAL);
  std::lock_guard<std::mutex> l(t.kernel().mu());
  auto target = t.kernel().TaskByTidLocked(tid);
  if (!target || (tgid > 0 && target->tgid() != tgid)) return Errno(ESRCH);
  if (!MaySignal(t, *target)) return Errno(EPERM);
  if (sig == 0) return int64_t(0);
  TaskOps::SendToTaskLocked(*target, MakeKillInfo(sig, SI_TKILL, t.tgid(), t.creds().ruid));
  return int64_t(0);
}

SyscallResult Kill(Task& t, const SyscallArgs& a) {
  int pid = a[0].Int(), sig = a[1].Int();
  if (sig < 0 || sig > kNumSignals) return Errno(EINVAL);
  siginfo_t info = MakeKillInfo(sig, SI_USER, t.tgid(), t.creds().ruid);
  std::lock_guard<std::mutex> l(t.kernel().mu());
  Kernel& k = t.kernel();
  if (pid > 0) {
    auto target = k.TaskByTidLocked(pid);
    if (!target) {
      // A zombie still exists until reaped: the signal has no effect.
      for (auto& tg : k.ThreadGroupsLocked())
        if (tg->pid() == pid && tg->zombie) return int64_t(0);
      return Errno(ESRCH);
    }
    if (!MaySignal(t, *target)) return Errno(EPERM);
    if (sig) TaskOps::SendToGroupLocked(target->thread_group(), info);
    return int64_t(0);
  }
  // pid 0: our process group; -1: everyone but init and us; < -1: group -pid.
  int pgid = pid == 0 ? t.thread_group().pgid : -pid;
  bool found = false;
  for (auto& tg : k.ThreadGroupsLocked()) {
    if (tg->zombie || tg->tasks.empty()) continue;
    if (pid == -1) {
      if (tg->pid() == 1 || tg.get() == &t.thread_group()) continue;
    } else if (tg->pgid != pgid) {
      continue;
    }
    found = true;
    if (sig) TaskOps::SendToGroupLocked(*tg, info);
  }
  if (!found) return Errno(ESRCH);
  return int64_t(0);
}

SyscallResult Tkill(Task& t, const SyscallArgs& a) {
  if (a[0].Int() <= 0) return Errno(EINVAL);
  return SendToTask(t, 0, a[0].Int(), a[1].Int());
}

SyscallResult Tgkill(Task& t, const SyscallArgs& a) {
  if (a[0].Int() <= 0 || a[1].Int() <= 0) return Errno(EINVAL);
  return SendToTask(t, a[0].Int(), a[1].Int(), a[2].Int());
}

SyscallResult RtSigqueueinfo(Task& t, const SyscallArgs& a) {
  int pid = a[0].Int(), sig = a[1].Int();
  if (!ValidSignal(sig)) return Errno(EINVAL);
  siginfo_t info;
  PAL_TRY_ERRNO(t.CopyInObj(a[2].Ptr(), info));
  // Only kernel-looking codes are forbidden to user space (si_code >= 0).
  if ((info.si_code >= 0 || info.si_code == SI_TKILL) && pid != t.tgid()) return Errno(EPERM);
  info.si_signo = sig;
  std::lock_guard<std::mutex> l(t.kernel().mu());
  auto target = t.kernel().TaskByTidLocked(pid);
  if (!target) return Errno(ESRCH);
  if (RtQueueFullLocked(t.kernel(), *target, info)) return Errno(EAGAIN);
  TaskOps::SendToGroupLocked(target->thread_group(), info);
  return int64_t(0);
}

SyscallResult RtTgsigqueueinfo(Task& t, const SyscallArgs& a) {
  int tgid = a[0].Int(), tid = a[1].Int(), sig = a[2].Int();
  if (tgid <= 0 || tid <= 0 || !ValidSignal(sig)) return Errno(EINVAL);
  siginfo_t info;
  PAL_TRY_ERRNO(t.CopyInObj(a[3].Ptr(), info));
  if ((info.si_code >= 0 || info.si_code == SI_TKILL) && tgid != t.tgid()) return Errno(EPERM);
  info.si_signo = sig;
  std::lock_guard<std::mutex> l(t.kernel().mu());
  auto target = t.kernel().TaskByTidLocked(tid);
  if (!target || target->tgid() != tgid) return Errno(ESRCH);
  if (RtQueueFullLocked(t.kernel(), *target, info)) return Errno(EAGAIN);
  TaskOps::SendToTaskLocked(*target, info);
  return int64_t(0);
}

SyscallResult Sigaltstack(Task& t, const SyscallArgs& a) {
  auto& in = t.internals();
  KernelStack old;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    old = in.altstack;
  }
  bool on = !(old.flags & SS_DISABLE) && t.regs().rsp > old.sp && t.regs().rsp - old.sp <= old.size;
  if (a[0].Ptr()) {
    KernelStack ss;
    PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), ss));
    if (on) return Errno(EPERM);
    constexpr int kSsAutodisarm = 1 << 31;  // SS_AUTODISARM
    int mode = ss.flags & ~kSsAutodisarm;
    if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK) return Errno(EINVAL);
    KernelStack n{0, SS_DISABLE, 0, 0};
    if (mode != SS_DISABLE) {
      if (ss.size < uint64_t(MINSIGSTKSZ)) return Errno(ENOMEM);
      n = KernelStack{ss.sp, 0, 0, ss.size};
    }
    std::lock_guard<std::mutex> l(t.kernel().mu());
    in.altstack = n;
  }
  if (a[1].Ptr()) {
    KernelStack o = old;
    o.flags = (old.flags & SS_DISABLE) ? SS_DISABLE : (on ? SS_ONSTACK : 0);
    if (old.flags & SS_DISABLE) o.sp = o.size = 0;
    PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), o));
  }
  return int64_t(0);
}

SyscallResult RtSigsuspend(Task& t, const SyscallArgs& a) {
  if (a[1].Size() != 8) return Errno(EINVAL);
  SigSet m;
  PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), m.bits));
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    auto& in = t.internals();
    in.saved_mask = in.mask;
    in.mask.bits = m.bits & ~kUnblockableSignals;
  }
  t.waiter().Clear();
  while (t.Block().ok()) t.waiter().Clear();
  return Errno(kERESTARTNOHAND);
}

SyscallResult Pause(Task& t, const SyscallArgs&) {
  t.waiter().Clear();
  while (t.Block().ok()) t.waiter().Clear();
  return Errno(kERESTARTNOHAND);
}

SyscallResult RtSigpending(Task& t, const SyscallArgs& a) {
  if (a[1].Size() > 8) return Errno(EINVAL);
  SigSet s;
  {
    std::lock_guard<std::mutex> l(t.kernel().mu());
    for (auto& i : t.internals().pending) s.Add(i.si_signo);
    for (auto& i : t.thread_group().shared_pending) s.Add(i.si_signo);
    s.bits &= t.internals().mask.bits;
  }
  PAL_TRY_ERRNO(t.CopyOut(a[0].Ptr(), &s.bits, a[1].Size()));
  return int64_t(0);
}

SyscallResult RtSigtimedwait(Task& t, const SyscallArgs& a) {
  if (a[3].Size() != 8) return Errno(EINVAL);
  SigSet set;
  PAL_TRY_ERRNO(t.CopyInObj(a[0].Ptr(), set.bits));
  set.bits &= ~kUnblockableSignals;
  int64_t deadline = -1;
  if (a[2].Ptr()) {
    struct timespec ts;
    PAL_TRY_ERRNO(t.CopyInObj(a[2].Ptr(), ts));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Errno(EINVAL);
    deadline = MonotonicNowNs() + ts.tv_sec * 1000000000ll + ts.tv_nsec;
  }
  auto& in = t.internals();
  // Temporarily unblock the awaited signals so Block() notices them, but
  // take them here instead of delivering them.
  for (;;) {
    {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      siginfo_t info;
      if (TaskOps::TakeLowestLocked(in.pending, set.bits, &info) ||
          TaskOps::TakeLowestLocked(t.thread_group().shared_pending, set.bits, &info)) {
        OnSignalDequeuedLocked(t.thread_group(), info);  // a POSIX timer's overrun
        in.mask = in.saved_mask.value_or(in.mask);
        in.saved_mask.reset();
        in.real_blocked = SigSet{};
        if (a[1].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), info));
        return int64_t(info.si_signo);
      }
      if (!in.saved_mask) in.saved_mask = in.mask;
      in.mask.bits = in.saved_mask->bits & ~set.bits;
      in.real_blocked = *in.saved_mask;
    }
    t.waiter().Clear();
    Errno e = t.Block(deadline);
    if (e == Errno(ETIMEDOUT)) {
      std::lock_guard<std::mutex> l(t.kernel().mu());
      in.mask = *in.saved_mask;
      in.saved_mask.reset();
      in.real_blocked = SigSet{};
      return Errno(EAGAIN);
    }
    if (e == Errno(EINTR)) {
      // Either an awaited signal (taken on the next loop) or another one,
      // which a handler gets; the saved mask is restored at delivery.
      std::lock_guard<std::mutex> l(t.kernel().mu());
      bool awaited = false;
      for (auto& i : in.pending) awaited |= set.Has(i.si_signo);
      for (auto& i : t.thread_group().shared_pending) awaited |= set.Has(i.si_signo);
      if (!awaited) {
        in.real_blocked = SigSet{};
        return Errno(EINTR);
      }
    }
  }
}

}  // namespace sys
}  // namespace palisade
