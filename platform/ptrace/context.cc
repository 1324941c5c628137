#include "platform/ptrace/context.h"

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "spdlog/spdlog.h"

namespace palisade::platform {

PtraceContext::PtraceContext(std::unique_ptr<StubProcess> stub, uint64_t min_addr,
                             uint64_t max_addr)
    : stub_(std::move(stub)), sync_(min_addr, max_addr) {}

Event PtraceContext::Switch(AddressSpace& as_base, Registers& regs) {
  auto* as = dynamic_cast<PtraceAddressSpace*>(&as_base);
  if (as == nullptr) {
    spdlog::error("ptrace: Switch given an AddressSpace of another platform");
    stub_->Kill();
    return Event{EventKind::kDied};
  }
  if (!stub_->alive() || !Sync(*as)) return Event{EventKind::kDied};
  // Checked after Sync: a kick that arrived while injecting was swallowed
  // there, but the flag it goes with is still set.
  if (interrupt_.exchange(false, std::memory_order_acq_rel)) return Event{EventKind::kInterrupted};
  return Run(regs);
}

Event PtraceContext::Run(Registers& regs) {
  auto died = [this] {
    stub_->Kill();  // whatever broke, kDied means the stub is gone
    return Event{EventKind::kDied};
  };
  Registers r = regs;
  // Resume "outside a syscall": after a syscall stop the host would
  // otherwise apply its own restart logic to an ERESTART* value in rax
  // when a signal is pending; restarts are the sentry's business.
  r.orig_rax = ~uint64_t{0};
  if (Errno e = stub_->SetRegs(r); !e.ok()) {
    if (e.value() != EIO) return died();
    // The host rejects these registers (a segment selector): the app cannot
    // run them, which Linux reports as SIGSEGV from the kernel.
    spdlog::debug("ptrace: stub {} rejected registers (cs={:#x} ss={:#x})", stub_->pid(), regs.cs,
                  regs.ss);
    Event ev{EventKind::kSignal};
    ev.info.si_signo = SIGSEGV;
    ev.info.si_code = SI_KERNEL;
    return ev;
  }
  for (;;) {
    ErrnoOr<int> st = stub_->ResumeAndWait(PTRACE_SYSEMU);
    if (!st.ok() || !stub_->alive()) return died();
    const int sig = WSTOPSIG(*st);
    if (sig == (SIGTRAP | 0x80)) {  // syscall-enter stop (TRACESYSGOOD)
      if (!stub_->GetRegs(regs).ok()) return died();
      return Event{EventKind::kSyscall};
    }
    Event ev;
    if (Errno e = stub_->GetSigInfo(ev.info); !e.ok()) {
      if (e.value() == EINVAL) continue;  // a group-stop: resuming ends it
      return died();
    }
    if (sig == StubProcess::kKickSignal && !IsSynchronousSignal(ev.info)) {
      // The flag is the truth; a kick without it is left over from an
      // Interrupt() already reported at the start of a Switch.
      if (!interrupt_.exchange(false, std::memory_order_acq_rel)) continue;
      if (!stub_->GetRegs(regs).ok()) return died();
      return Event{EventKind::kInterrupted};
    }
    if (!IsSynchronousSignal(ev.info)) {
      // Sent from outside the sandbox (kill(1) on the stub...): the app has
      // no handler on the host, so drop it rather than confuse the sentry.
      spdlog::debug("ptrace: stub {} got signal {} from pid {}, suppressed", stub_->pid(), sig,
                    ev.info.si_pid);
      continue;
    }
    if (!stub_->GetRegs(regs).ok()) return died();
    const bool fault = (sig == SIGSEGV || sig == SIGBUS) && ev.info.si_code != SI_KERNEL;
    if (fault) {
      ev.kind = EventKind::kFault;
      ev.fault_addr = reinterpret_cast<uint64_t>(ev.info.si_addr);
      ev.fault_code = ev.info.si_code;
    } else {
      ev.kind = EventKind::kSignal;  // includes SIGSEGV from a #GP (SI_KERNEL, no address)
    }
    return ev;
  }
}

bool PtraceContext::Sync(PtraceAddressSpace& as) {
  return sync_.Sync(as, [this](const MemOp& op) { return InjectMemOp(*stub_, op); });
}

void PtraceContext::Interrupt() {
  interrupt_.store(true, std::memory_order_release);
  stub_->Kick();
}

Errno PtraceContext::GetFpState(FpState& fp) {
  if (!stub_->alive()) return Errno(ESRCH);
  return stub_->GetFpRegs(fp);
}

Errno PtraceContext::SetFpState(const FpState& fp) {
  if (!stub_->alive()) return Errno(ESRCH);
  return stub_->SetFpRegs(fp);
}

void PtraceContext::ResetAddressSpace() { sync_.Reset(); }

}  // namespace palisade::platform
