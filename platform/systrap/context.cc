#include "platform/systrap/context.h"

#include <signal.h>

#include <cstring>

#include "platform/systrap/handoff.h"
#include "platform/systrap/signal_frame.h"
#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

constexpr int kSysSeccomp = 1;  // si_code of a seccomp SIGSYS (SYS_SECCOMP)

constexpr uint64_t kVsyscallStart = 0xffffffffff600000;
constexpr uint64_t kVsyscallEnd = kVsyscallStart + 4096;

bool ValidSegments(const Registers& r) {
  return ((r.cs | 3) == 0x33 || (r.cs | 3) == 0x23) && (r.ss | 3) == 0x2b;
}

}  // namespace

SystrapContext::~SystrapContext() { Unbind(); }

void SystrapContext::Unbind() {
  if (!process_) return;
  SystrapProcess::Thread t;
  {
    std::lock_guard<std::mutex> l(kick_mu_);
    t = std::move(thread_);
    thread_ = SystrapProcess::Thread{};
  }
  if (t.slot >= 0) process_->ReleaseThread(t);
  process_.reset();  // the last reference kills the process
}

bool SystrapContext::Bind(SystrapAddressSpace& as) {
  // The common case, every Switch: still in the same address space.
  if (thread_.slot >= 0 && as.id() == bound_as_id_) return true;
  absl::StatusOr<std::shared_ptr<SystrapProcess>> p = as.Process(make_);
  if (!p.ok()) {
    spdlog::error("systrap: no stub process: {}", p.status().ToString());
    return false;
  }
  if (*p == process_ && thread_.slot >= 0) {
    bound_as_id_ = as.id();
    return true;
  }
  // Another address space (execve): this thread leaves the old process.
  Unbind();
  absl::StatusOr<SystrapProcess::Thread> t = (*p)->SpawnThread();
  if (!t.ok()) {
    spdlog::error("systrap: no stub thread: {}", t.status().ToString());
    return false;
  }
  process_ = std::move(*p);
  {
    std::lock_guard<std::mutex> l(kick_mu_);
    thread_ = std::move(*t);
  }
  bound_as_id_ = as.id();
  BuildFreshFrame();
  if (pending_fp_) {
    SetFpState(*pending_fp_);
    pending_fp_.reset();
  }
  // An Interrupt() that came before the thread existed kicked nothing;
  // the flag alone makes Switch report it.
  return true;
}

// The frame a new thread starts from: what rt_sigreturn needs, with a
// legacy (fxsave) FP area in its initial state; the registers are filled
// in by Switch().
void SystrapContext::BuildFreshFrame() {
  const SharedRegion& r = thread_.region;
  frame_off_ = PALISADE_SYSTRAP_FRESH_FRAME_OFF;
  auto* f = reinterpret_cast<KernelSigframe*>(r.At(frame_off_, sizeof(KernelSigframe)));
  std::memset(f, 0, sizeof(*f));
  f->uc.uc_flags = kUcSigcontextSs | kUcStrictRestoreSs;
  f->uc.uc_mcontext.fpstate =
      reinterpret_cast<struct _fpstate*>(r.stub_address() + PALISADE_SYSTRAP_FRESH_FP_OFF);
  char* fp = r.At(PALISADE_SYSTRAP_FRESH_FP_OFF, sizeof(FpState));
  std::memset(fp, 0, sizeof(FpState));
  // Without FP_XSTATE_MAGIC1 in its software-reserved bytes the kernel
  // restores this area with fxrstor: x87/SSE from here, the rest cleared.
  const FpState init = InitialFpState();
  std::memcpy(fp, &init, sizeof(init));
  SystrapHeader& h = r.header();
  h.cur_fs.store(~uint64_t{0});  // unknown: the first run always sets them
  h.cur_gs.store(~uint64_t{0});
}

struct sigcontext* SystrapContext::Sigcontext() const {
  auto* f = reinterpret_cast<KernelSigframe*>(thread_.region.At(frame_off_, sizeof(KernelSigframe)));
  return &f->uc.uc_mcontext;
}

char* SystrapContext::FpArea() const {
  const uint64_t addr = reinterpret_cast<uint64_t>(Sigcontext()->fpstate);
  // 64 bytes past the legacy area: the xsave header, when present.
  if (addr % 16 != 0) return nullptr;
  return thread_.region.AtStubAddress(addr, sizeof(FpState) + 64);
}

Errno SystrapContext::Prepare(AddressSpace& as_base) {
  auto* as = dynamic_cast<SystrapAddressSpace*>(&as_base);
  if (as == nullptr || dead_) return Errno(EINVAL);
  return Bind(*as) ? Errno::Ok() : Errno(EAGAIN);
}

Event SystrapContext::Died() {
  dead_ = true;
  if (process_) process_->Kill();
  return Event{EventKind::kDied};
}

Event SystrapContext::Switch(AddressSpace& as_base, Registers& regs) {
  auto* as = dynamic_cast<SystrapAddressSpace*>(&as_base);
  if (as == nullptr) {
    spdlog::error("systrap: Switch given an AddressSpace of another platform");
    return Died();
  }
  if (dead_ || !Bind(*as)) return Died();
  // No liveness check here (a poll per trap): a dead process shows in the
  // wait for its report, or in a failed sync.
  if (!process_->Sync(*as, thread_)) return Died();
  if (interrupt_.exchange(false, std::memory_order_acq_rel)) return Event{EventKind::kInterrupted};
  if (!ValidSegments(regs)) {
    Event ev{EventKind::kSignal};
    ev.info.si_signo = SIGSEGV;
    ev.info.si_code = SI_KERNEL;
    return ev;
  }
  for (;;) {
    WriteFrame(regs);
    if (!RunAndWait()) return Died();
    Event ev;
    if (!ReadEvent(regs, ev)) return Died();
    const siginfo_t& si = ev.info;
    if (si.si_signo == SIGSYS && si.si_code == kSysSeccomp) {
      // A vsyscall: the kernel emulated the call's return already (rip is
      // the caller's), but si_call_addr still says where it was.
      const auto call = reinterpret_cast<uint64_t>(si.si_call_addr);
      if (call >= kVsyscallStart && call < kVsyscallEnd) {
        ev.kind = EventKind::kSignal;  // the host would have run it itself
        return ev;
      }
      // The kernel rolled rax back to the syscall number, as ptrace shows
      // it at syscall entry.
      regs.orig_rax = regs.rax;
      ev.kind = EventKind::kSyscall;
      return ev;
    }
    if (si.si_signo == StubProcess::kKickSignal && !IsSynchronousSignal(si)) {
      // The flag is the truth; a kick without it is left over from an
      // Interrupt() already reported at the start of a Switch.
      if (interrupt_.exchange(false, std::memory_order_acq_rel)) {
        ev.kind = EventKind::kInterrupted;
        return ev;
      }
    } else if (IsSynchronousSignal(si)) {
      const bool fault =
          (si.si_signo == SIGSEGV || si.si_signo == SIGBUS) && si.si_code != SI_KERNEL;
      if (fault) {
        ev.kind = EventKind::kFault;
        ev.fault_addr = reinterpret_cast<uint64_t>(si.si_addr);
        ev.fault_code = si.si_code;
      } else {
        ev.kind = EventKind::kSignal;
      }
      return ev;
    } else {
      spdlog::debug("systrap: stub {} got signal {} from pid {}, suppressed", stub_pid(),
                    si.si_signo, si.si_pid);
    }
    // Nothing for the sentry: resume the app exactly where it was.
  }
}

// The frame the stub returns through: the app's registers, and the stub's
// own signal mask and stack whatever the frame held before.
void SystrapContext::WriteFrame(const Registers& regs) {
  const SharedRegion& r = thread_.region;
  auto* f = reinterpret_cast<KernelSigframe*>(r.At(frame_off_, sizeof(KernelSigframe)));
  RegistersToSigcontext(regs, f->uc.uc_mcontext);
  f->uc.uc_sigmask = SystrapProcess::StubSignalMask();
  f->uc.uc_stack.ss_sp = reinterpret_cast<void*>(r.stub_address() + PALISADE_SYSTRAP_ALTSTACK_OFF);
  f->uc.uc_stack.ss_size = SharedRegion::kSize - PALISADE_SYSTRAP_ALTSTACK_OFF;
  f->uc.uc_stack.ss_flags = 0;
  SystrapHeader& h = r.header();
  h.want_fs.store(regs.fs_base, std::memory_order_relaxed);
  h.want_gs.store(regs.gs_base, std::memory_order_relaxed);
  h.frame_rsp.store(r.stub_address() + frame_off_, std::memory_order_relaxed);
}

bool SystrapContext::RunAndWait() {
  SystrapHeader& h = thread_.region.header();
  const int64_t start = MonotonicNs();
  running_since_.store(start, std::memory_order_relaxed);
  PostToStub(h, PALISADE_SYSTRAP_STATE_RUN);
  StubProcess& stub = *thread_.handle;
  SystrapProcess& process = *process_;
  const bool ok = WaitForStub(
      h,
      [&] {
        process.RefuseStrayCalls();  // e.g. this very thread's, if it jumped into the stub page
        return stub.ThreadExists();
      },
      &spin_ns_);
  app_ns_.fetch_add(MonotonicNs() - start, std::memory_order_relaxed);
  running_since_.store(0, std::memory_order_relaxed);
  return ok;
}

ErrnoOr<int64_t> SystrapContext::HostCpuTimeNs() const {
  const int64_t since = running_since_.load(std::memory_order_relaxed);
  int64_t ns = app_ns_.load(std::memory_order_relaxed);
  if (since != 0) ns += std::max<int64_t>(0, MonotonicNs() - since);
  return ns;
}

bool SystrapContext::ReadEvent(Registers& regs, Event& ev) {
  const SharedRegion& r = thread_.region;
  // Read once: the app shares this memory whenever it runs.
  const uint64_t rsp = r.header().frame_rsp.load(std::memory_order_relaxed);
  if (rsp < r.stub_address() + PALISADE_SYSTRAP_ALTSTACK_OFF ||
      r.AtStubAddress(rsp, sizeof(KernelSigframe)) == nullptr) {
    spdlog::warn("systrap: stub {} thread {} reported a frame at {:#x}, outside its signal stack; killed",
                 stub_pid(), stub_tid(), rsp);
    return false;
  }
  frame_off_ = rsp - r.stub_address();
  const auto* f = reinterpret_cast<const KernelSigframe*>(r.At(frame_off_, sizeof(KernelSigframe)));
  RegistersFromSigcontext(f->uc.uc_mcontext, regs);
  regs.fs_base = r.header().cur_fs.load(std::memory_order_relaxed);
  regs.gs_base = r.header().cur_gs.load(std::memory_order_relaxed);
  std::memcpy(&ev.info, &f->info, sizeof(siginfo_t));
  return true;
}

void SystrapContext::ResetAddressSpace() {
  if (process_) process_->ResetSync();
}

void SystrapContext::Interrupt() {
  interrupt_.store(true, std::memory_order_release);
  std::lock_guard<std::mutex> l(kick_mu_);
  if (thread_.handle) thread_.handle->Kick();
}

Errno SystrapContext::GetFpState(FpState& fp) {
  if (thread_.slot < 0) {
    if (dead_) return Errno(ESRCH);
    fp = pending_fp_ ? *pending_fp_ : InitialFpState();
    return Errno::Ok();
  }
  if (dead_ || process_->Exited()) return Errno(ESRCH);
  const char* area = FpArea();
  if (area == nullptr) return Errno(EINVAL);
  std::memcpy(&fp, area, sizeof(fp));
  return Errno::Ok();
}

Errno SystrapContext::SetFpState(const FpState& fp) {
  if (thread_.slot < 0) {
    if (dead_) return Errno(ESRCH);
    pending_fp_ = fp;
    return Errno::Ok();
  }
  if (dead_ || process_->Exited()) return Errno(ESRCH);
  char* area = FpArea();
  if (area == nullptr) return Errno(EINVAL);
  // Keep the software-reserved bytes (464..511): in a kernel-made frame
  // they say the area is XSAVE-format and how big it is.
  std::memcpy(area, &fp, 464);
  auto* f = reinterpret_cast<KernelSigframe*>(thread_.region.At(frame_off_, sizeof(KernelSigframe)));
  if (f->uc.uc_flags & kUcFpXstate) {
    // XSAVE header: make x87 and SSE come from the legacy area just set.
    uint64_t xstate_bv;
    std::memcpy(&xstate_bv, area + 512, 8);
    xstate_bv |= 0x3;
    std::memcpy(area + 512, &xstate_bv, 8);
  }
  return Errno::Ok();
}

}  // namespace palisade::platform
