#include "platform/ptrace/context.h"

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <vector>

#include "spdlog/spdlog.h"

namespace palisade::platform {

PtraceContext::PtraceContext(std::unique_ptr<StubProcess> stub, uint64_t min_addr,
                             uint64_t max_addr)
    : stub_(std::move(stub)), min_(min_addr), max_(max_addr) {}

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
  if (as.id() == as_id_ && as.generation() == synced_gen_) return true;
  uint64_t since = synced_gen_;
  if (as.id() != as_id_) {
    // A different address space (execve, or a reset): nothing of the old
    // one may stay visible. One munmap clears the range whatever it held.
    if (!view_.empty() || view_dirty_) {
      if (!Apply(MemOp{MemOp::Kind::kUnmap, min_, max_ - min_, 0, 0})) return false;
    }
    view_.Clear();
    view_dirty_ = false;
    as_id_ = as.id();
    since = PtraceAddressSpace::kFullSync;
  }
  AddressSpaceDelta d = as.DeltaSince(since);
  std::vector<MemOp> ops;
  DiffTables(view_, d.want, d.dirty, ops);
  for (const MemOp& op : ops) {
    if (!Apply(op)) return false;
  }
  if (d.full) {
    view_ = std::move(d.want);
  } else {
    for (const Range& r : d.dirty) view_.Unmap(r.start, r.end - r.start);
    for (const auto& [addr, m] : d.want.entries()) view_.Map(addr, m.len, m.offset, m.prot);
  }
  synced_gen_ = d.generation;
  return true;
}

bool PtraceContext::Apply(const MemOp& op) {
  ErrnoOr<int64_t> r = Errno(EINVAL);
  int64_t want = 0;
  if (op.kind == MemOp::Kind::kMap) {
    r = stub_->Inject(SYS_mmap, {op.addr, op.len, static_cast<uint64_t>(op.prot),
                                 MAP_SHARED | MAP_FIXED, StubProcess::kMemFd, op.offset});
    want = static_cast<int64_t>(op.addr);
  } else {
    r = stub_->Inject(SYS_munmap, {op.addr, op.len});
  }
  if (r.ok() && *r == want) return true;
  if (r.ok()) {
    spdlog::error("ptrace: stub {}: {}({:#x}, {:#x}, off {:#x}, prot {}) returned {}", stub_->pid(),
                  op.kind == MemOp::Kind::kMap ? "mmap" : "munmap", op.addr, op.len, op.offset,
                  op.prot, *r);
  } else {
    spdlog::error("ptrace: stub {}: injecting a syscall failed: {}", stub_->pid(),
                  r.error().Name());
  }
  stub_->Kill();
  return false;
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

void PtraceContext::ResetAddressSpace() {
  as_id_ = 0;
  view_dirty_ = true;
}

}  // namespace palisade::platform
