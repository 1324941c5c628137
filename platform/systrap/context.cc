#include "platform/systrap/context.h"

#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/status_macros.h"
#include "platform/stub/stub_x86_64.h"
#include "platform/systrap/signal_frame.h"
#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

constexpr int kSysSeccomp = 1;  // si_code of a seccomp SIGSYS (SYS_SECCOMP)

// The signals a stub takes through its handler: the seccomp trap, faults,
// and the sentry's kick. Every other signal stays blocked in the stub, so
// nothing sent from outside can kill or divert it (SIGKILL aside).
constexpr int kHandled[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
                            StubProcess::kKickSignal};

constexpr uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

constexpr uint64_t StubSignalMask() {
  uint64_t m = ~uint64_t{0};
  for (int s : kHandled) m &= ~Bit(s);
  return m;
}

// The kernel's struct sigaction for rt_sigaction(2) on x86-64.
struct KernelSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};
constexpr uint64_t kSaRestorer = 0x04000000;

constexpr uint64_t kVsyscallStart = 0xffffffffff600000;
constexpr uint64_t kVsyscallEnd = kVsyscallStart + 4096;

// How long the sentry spins for the stub's next report before sleeping in
// FUTEX_WAIT. A trapped syscall comes back within a few microseconds; a
// futex wake-up of a sleeping sentry costs far more (an idle vCPU must be
// woken: ~20 us on the 2-vCPU VMs of docs/benchmarks.md). Bounded, since
// the spinning thread holds a CPU the app may want.
// PALISADE_SYSTRAP_SPIN_NS overrides it (benchmarks).
long SpinBudgetNs() {
  static const long ns = [] {
    if (const char* e = std::getenv("PALISADE_SYSTRAP_SPIN_NS")) return std::strtol(e, nullptr, 10);
    return 20'000L;
  }();
  return ns;
}

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
// How often a sentry waiting for a running app checks the stub is alive.
constexpr long kLivenessCheckNs = 50'000'000;

long Futex(std::atomic<uint32_t>& word, int op, uint32_t val, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), op, val, timeout, nullptr, 0);
}

bool ValidSegments(const Registers& r) {
  return ((r.cs | 3) == 0x33 || (r.cs | 3) == 0x23) && (r.ss | 3) == 0x2b;
}

}  // namespace

SystrapContext::SystrapContext(std::unique_ptr<StubProcess> stub, SharedRegion region,
                               SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr)
    : stub_(std::move(stub)), region_(std::move(region)), variant_(variant), sync_(min_addr, max_addr) {}

absl::StatusOr<std::unique_ptr<SystrapContext>> SystrapContext::Create(
    const StubPage& page, int memfd, const std::vector<sock_filter>& filter,
    SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr) {
  PAL_ASSIGN_OR_RETURN(SharedRegion region, SharedRegion::Create());
  StubOptions opts{.ptrace_filter = false, .trace_seccomp = true, .shared_fd = region.fd()};
  PAL_ASSIGN_OR_RETURN(std::unique_ptr<StubProcess> stub, StubProcess::Spawn(page, memfd, opts));
  region.CloseFd();
  std::unique_ptr<SystrapContext> c(
      new SystrapContext(std::move(stub), std::move(region), variant, min_addr, max_addr));
  PAL_RETURN_IF_ERROR(c->SetUpStub(filter));
  return c;
}

// The stub is stopped and traced, stripped to the stub page. Everything
// here is injected, in an order where each step still has what it needs;
// the filter goes last since it forbids most of them.
absl::Status SystrapContext::SetUpStub(const std::vector<sock_filter>& filter) {
  const uint64_t base = SharedRegion::kStubAddress;
  auto inject = [&](const char* what, uint64_t nr, std::initializer_list<uint64_t> args,
                    int64_t want) -> absl::Status {
    ErrnoOr<int64_t> r = stub_->Inject(nr, args);
    if (!r.ok()) return ErrnoStatus(r.error().value(), "systrap stub set-up", what);
    if (*r != want) {
      return ErrnoStatus(*r < 0 ? static_cast<int>(-*r) : EINVAL, "systrap stub set-up", what);
    }
    return absl::OkStatus();
  };
  PAL_RETURN_IF_ERROR(inject("mmap shared region", SYS_mmap,
                             {base, SharedRegion::kSize, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_FIXED, StubProcess::kSharedFd, 0},
                             static_cast<int64_t>(base)));
  PAL_RETURN_IF_ERROR(inject("close", SYS_close, {StubProcess::kSharedFd}, 0));

  char* scratch = region_.At(PALISADE_SYSTRAP_SCRATCH_OFF, 4096);
  const uint64_t scratch_addr = base + PALISADE_SYSTRAP_SCRATCH_OFF;
  const uint64_t handler = StubPage::kAddress + variant_.handler;
  KernelSigaction sa{.handler = handler,
                     .flags = SA_SIGINFO | SA_ONSTACK | kSaRestorer,
                     .restorer = handler,  // never used: the handler never returns
                     .mask = ~uint64_t{0}};
  std::memcpy(scratch, &sa, sizeof(sa));
  for (int sig : kHandled) {
    PAL_RETURN_IF_ERROR(
        inject("rt_sigaction", SYS_rt_sigaction, {static_cast<uint64_t>(sig), scratch_addr, 0, 8}, 0));
  }
  stack_t ss{};
  ss.ss_sp = reinterpret_cast<void*>(base + PALISADE_SYSTRAP_ALTSTACK_OFF);
  ss.ss_size = SharedRegion::kSize - PALISADE_SYSTRAP_ALTSTACK_OFF;
  std::memcpy(scratch, &ss, sizeof(ss));
  PAL_RETURN_IF_ERROR(inject("sigaltstack", SYS_sigaltstack, {scratch_addr, 0}, 0));
  // The kick stays blocked while the stub waits for its first run: one
  // sent then (an Interrupt() before the first Switch, e.g. a signal to a
  // task clone has just made) would enter the handler and report a frame
  // the sentry is not expecting. The first rt_sigreturn installs the
  // frame's mask (StubSignalMask, see WriteFrame), and a pending kick then
  // arrives as an ordinary left-over kick.
  const uint64_t mask = StubSignalMask() | Bit(StubProcess::kKickSignal);
  std::memcpy(scratch, &mask, sizeof(mask));
  PAL_RETURN_IF_ERROR(
      inject("rt_sigprocmask", SYS_rt_sigprocmask, {SIG_SETMASK, scratch_addr, 0, 8}, 0));
  PAL_RETURN_IF_ERROR(inject("prctl(NO_NEW_PRIVS)", SYS_prctl, {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0}, 0));

  const size_t prog_bytes = filter.size() * sizeof(sock_filter);
  char* prog = region_.At(PALISADE_SYSTRAP_SCRATCH_OFF + 64, prog_bytes);
  if (prog == nullptr) return absl::InternalError("systrap filter does not fit the shared region");
  std::memcpy(prog, filter.data(), prog_bytes);
  sock_fprog fprog{static_cast<unsigned short>(filter.size()),
                   reinterpret_cast<sock_filter*>(scratch_addr + 64)};
  std::memcpy(scratch, &fprog, sizeof(fprog));
  PAL_RETURN_IF_ERROR(
      inject("seccomp", SYS_seccomp, {SECCOMP_SET_MODE_FILTER, 0, scratch_addr}, 0));
  std::memset(scratch, 0, 64 + prog_bytes);

  BuildFreshFrame();
  // Off it goes, untraced, to wait in the stub page for its first run.
  Registers r;
  if (Errno e = stub_->GetRegs(r); !e.ok()) return ErrnoStatus(e.value(), "PTRACE_GETREGS");
  r.rip = StubPage::kAddress + variant_.wait;
  r.orig_rax = ~uint64_t{0};
  if (Errno e = stub_->Detach(r); !e.ok()) return ErrnoStatus(e.value(), "PTRACE_DETACH");
  return absl::OkStatus();
}

// The frame a new thread starts from: what rt_sigreturn needs, with a
// legacy (fxsave) FP area in its initial state; the registers are filled
// in by Switch().
void SystrapContext::BuildFreshFrame() {
  frame_off_ = PALISADE_SYSTRAP_FRESH_FRAME_OFF;
  auto* f = reinterpret_cast<KernelSigframe*>(region_.At(frame_off_, sizeof(KernelSigframe)));
  std::memset(f, 0, sizeof(*f));
  f->uc.uc_flags = kUcSigcontextSs | kUcStrictRestoreSs;
  f->uc.uc_mcontext.fpstate = reinterpret_cast<struct _fpstate*>(SharedRegion::kStubAddress +
                                                                  PALISADE_SYSTRAP_FRESH_FP_OFF);
  char* fp = region_.At(PALISADE_SYSTRAP_FRESH_FP_OFF, sizeof(FpState));
  std::memset(fp, 0, sizeof(FpState));
  // Without FP_XSTATE_MAGIC1 in its software-reserved bytes the kernel
  // restores this area with fxrstor: x87/SSE from here, the rest cleared.
  FpState init{};
  init.cwd = 0x37f;
  init.mxcsr = 0x1f80;
  std::memcpy(fp, &init, sizeof(init));
  SystrapHeader& h = region_.header();
  h.cur_fs.store(~uint64_t{0});  // unknown: the first run always sets them
  h.cur_gs.store(~uint64_t{0});
}

struct sigcontext* SystrapContext::Sigcontext() const {
  auto* f = reinterpret_cast<KernelSigframe*>(region_.At(frame_off_, sizeof(KernelSigframe)));
  return &f->uc.uc_mcontext;
}

char* SystrapContext::FpArea() const {
  const uint64_t addr = reinterpret_cast<uint64_t>(Sigcontext()->fpstate);
  // 64 bytes past the legacy area: the xsave header, when present.
  if (addr % 16 != 0) return nullptr;
  return region_.AtStubAddress(addr, sizeof(FpState) + 64);
}

Event SystrapContext::Died() {
  stub_->Kill();
  return Event{EventKind::kDied};
}

Event SystrapContext::Switch(AddressSpace& as_base, Registers& regs) {
  auto* as = dynamic_cast<PtraceAddressSpace*>(&as_base);
  if (as == nullptr) {
    spdlog::error("systrap: Switch given an AddressSpace of another platform");
    return Died();
  }
  if (!stub_->alive() || !Sync(*as)) return Died();
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
      spdlog::debug("systrap: stub {} got signal {} from pid {}, suppressed", stub_->pid(),
                    si.si_signo, si.si_pid);
    }
    // Nothing for the sentry: resume the app exactly where it was.
  }
}

// The frame the stub returns through: the app's registers, and the stub's
// own signal mask and stack whatever the frame held before.
void SystrapContext::WriteFrame(const Registers& regs) {
  auto* f = reinterpret_cast<KernelSigframe*>(region_.At(frame_off_, sizeof(KernelSigframe)));
  RegistersToSigcontext(regs, f->uc.uc_mcontext);
  f->uc.uc_sigmask = StubSignalMask();
  f->uc.uc_stack.ss_sp =
      reinterpret_cast<void*>(SharedRegion::kStubAddress + PALISADE_SYSTRAP_ALTSTACK_OFF);
  f->uc.uc_stack.ss_size = SharedRegion::kSize - PALISADE_SYSTRAP_ALTSTACK_OFF;
  f->uc.uc_stack.ss_flags = 0;
  SystrapHeader& h = region_.header();
  h.want_fs.store(regs.fs_base, std::memory_order_relaxed);
  h.want_gs.store(regs.gs_base, std::memory_order_relaxed);
  h.frame_rsp.store(SharedRegion::kStubAddress + frame_off_, std::memory_order_relaxed);
}

bool SystrapContext::RunAndWait() {
  SystrapHeader& h = region_.header();
  h.state.store(PALISADE_SYSTRAP_STATE_RUN, std::memory_order_seq_cst);
  if (h.stub_sleeping.load(std::memory_order_seq_cst) != 0) Futex(h.state, FUTEX_WAKE, 1, nullptr);
  const long spin_ns = SpinBudgetNs();
  if (spin_ns > 0) {
    const int64_t start = MonotonicNs(), until = start + spin_ns;
    bool event = false;
    for (unsigned i = 1;; ++i) {
      if (h.state.load(std::memory_order_acquire) == PALISADE_SYSTRAP_STATE_EVENT) {
        event = true;
        break;
      }
      __builtin_ia32_pause();
      if (i % 64 == 0 && MonotonicNs() > until) break;
    }
    spin_ns_.fetch_add(MonotonicNs() - start, std::memory_order_relaxed);
    if (event) return true;
  }
  const timespec timeout{0, kLivenessCheckNs};
  for (;;) {
    h.sentry_sleeping.store(1, std::memory_order_seq_cst);
    const uint32_t s = h.state.load(std::memory_order_seq_cst);
    if (s == PALISADE_SYSTRAP_STATE_EVENT) break;
    if (Futex(h.state, FUTEX_WAIT, s, &timeout) != 0 && errno == ETIMEDOUT) {
      if (!stub_->PollAlive()) {
        h.sentry_sleeping.store(0, std::memory_order_relaxed);
        return false;
      }
    }
  }
  h.sentry_sleeping.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

bool SystrapContext::ReadEvent(Registers& regs, Event& ev) {
  // Read once: the app shares this memory whenever it runs.
  const uint64_t rsp = region_.header().frame_rsp.load(std::memory_order_relaxed);
  if (rsp < SharedRegion::kStubAddress + PALISADE_SYSTRAP_ALTSTACK_OFF ||
      region_.AtStubAddress(rsp, sizeof(KernelSigframe)) == nullptr) {
    spdlog::warn("systrap: stub {} reported a frame at {:#x}, outside its signal stack; killed",
                 stub_->pid(), rsp);
    return false;
  }
  frame_off_ = rsp - SharedRegion::kStubAddress;
  const auto* f = reinterpret_cast<const KernelSigframe*>(region_.At(frame_off_, sizeof(KernelSigframe)));
  RegistersFromSigcontext(f->uc.uc_mcontext, regs);
  regs.fs_base = region_.header().cur_fs.load(std::memory_order_relaxed);
  regs.gs_base = region_.header().cur_gs.load(std::memory_order_relaxed);
  std::memcpy(&ev.info, &f->info, sizeof(siginfo_t));
  return true;
}

bool SystrapContext::RunMemOps(const std::vector<MemOp>& ops) {
  struct Entry {
    uint64_t nr, args[6], result;
  };
  static_assert(sizeof(Entry) == PALISADE_SYSTRAP_MEMOPS_ENTRY);
  for (size_t first = 0; first < ops.size(); first += PALISADE_SYSTRAP_MEMOPS_MAX) {
    const size_t n = std::min<size_t>(ops.size() - first, PALISADE_SYSTRAP_MEMOPS_MAX);
    // Written while the stub is stopped: no app code can touch it now.
    char* table = region_.At(PALISADE_SYSTRAP_SCRATCH_OFF, 8 + n * sizeof(Entry));
    const uint64_t count = n;
    std::memcpy(table, &count, 8);
    auto* e = reinterpret_cast<Entry*>(table + 8);
    for (size_t i = 0; i < n; ++i) {
      const MemOpCall c = MemOpSyscall(ops[first + i]);
      e[i] = Entry{c.nr, {c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]}, ~uint64_t{0}};
    }
    if (Errno err = stub_->RunStubCode(StubOffset(palisade_stub_systrap_memops),
                                       StubOffset(palisade_stub_systrap_memops_done));
        !err.ok()) {
      spdlog::error("systrap: stub {}: running the mapping sync failed: {}", stub_->pid(), err.Name());
      return false;
    }
    for (size_t i = 0; i < n; ++i) {
      const MemOp& op = ops[first + i];
      if (e[i].result != MemOpSyscall(op).want) {
        LogMemOpFailure(stub_->pid(), op, static_cast<int64_t>(e[i].result));
        return false;
      }
    }
  }
  return true;
}

bool SystrapContext::Sync(PtraceAddressSpace& as) {
  if (sync_.UpToDate(as)) return true;
  // What to change, worked out first: often nothing (a change elsewhere
  // in the address space), and then the stub is left alone.
  std::vector<MemOp> ops;
  if (!sync_.Sync(as, [&ops](const MemOp& op) {
        ops.push_back(op);
        return true;
      })) {
    return false;
  }
  if (ops.empty()) return true;
  // The stub is waiting in its handler (or fresh, in systrap_wait): trace
  // it, run the calls, put its registers back and let it go. A failure
  // leaves its view unknown: the caller kills it.
  if (Errno e = stub_->Attach(); !e.ok()) {
    spdlog::error("systrap: stub {}: attach for a mapping sync failed: {}", stub_->pid(), e.Name());
    return false;
  }
  Registers saved;
  if (!stub_->GetRegs(saved).ok()) return false;
  if (!RunMemOps(ops)) return false;
  if (static_cast<int64_t>(saved.orig_rax) >= 0) {
    // Stopped in its FUTEX_WAIT: make it return EINTR rather than let the
    // host restart it; the wait loop looks at the state again anyway.
    const int64_t rax = static_cast<int64_t>(saved.rax);
    if (rax <= -kERESTARTSYS && rax >= -kERESTART_RESTARTBLOCK) saved.rax = static_cast<uint64_t>(-EINTR);
    saved.orig_rax = ~uint64_t{0};
  }
  if (Errno e = stub_->Detach(saved); !e.ok()) {
    spdlog::error("systrap: stub {}: detach failed: {}", stub_->pid(), e.Name());
    return false;
  }
  return true;
}

void SystrapContext::Interrupt() {
  interrupt_.store(true, std::memory_order_release);
  stub_->Kick();
}

Errno SystrapContext::GetFpState(FpState& fp) {
  if (!stub_->alive()) return Errno(ESRCH);
  const char* area = FpArea();
  if (area == nullptr) return Errno(EINVAL);
  std::memcpy(&fp, area, sizeof(fp));
  return Errno::Ok();
}

Errno SystrapContext::SetFpState(const FpState& fp) {
  if (!stub_->alive()) return Errno(ESRCH);
  char* area = FpArea();
  if (area == nullptr) return Errno(EINVAL);
  // Keep the software-reserved bytes (464..511): in a kernel-made frame
  // they say the area is XSAVE-format and how big it is.
  std::memcpy(area, &fp, 464);
  auto* f = reinterpret_cast<KernelSigframe*>(region_.At(frame_off_, sizeof(KernelSigframe)));
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
