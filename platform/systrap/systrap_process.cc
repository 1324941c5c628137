#include "platform/systrap/systrap_process.h"

#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>

#include "base/status_macros.h"
#include "platform/stub/stub_x86_64.h"
#include "platform/systrap/handoff.h"
#include "platform/systrap/memop_listener.h"
#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

// The signals a stub takes through its handler: the seccomp trap, faults,
// and the sentry's kick. Every other signal stays blocked in the stub, so
// nothing sent from outside can kill or divert it (SIGKILL aside).
constexpr int kHandled[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
                            StubProcess::kKickSignal};

constexpr uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

// The kernel's struct sigaction for rt_sigaction(2) on x86-64.
struct KernelSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};
constexpr uint64_t kSaRestorer = 0x04000000;

}  // namespace

uint64_t SystrapProcess::StubSignalMask() {
  uint64_t m = ~uint64_t{0};
  for (int s : kHandled) m &= ~Bit(s);
  return m;
}

SystrapProcess::SystrapProcess(std::unique_ptr<StubProcess> stub, SharedRegions regions,
                               SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr)
    : stub_(std::move(stub)), regions_(std::move(regions)), variant_(variant), sync_(min_addr, max_addr) {}

absl::StatusOr<std::shared_ptr<SystrapProcess>> SystrapProcess::Create(
    const StubPage& page, int memfd, const std::vector<sock_filter>& filter,
    SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr) {
  PAL_ASSIGN_OR_RETURN(SharedRegions regions, SharedRegions::Create());
  StubOptions opts{.ptrace_filter = false, .shared_fd = regions.fd()};
  PAL_ASSIGN_OR_RETURN(std::unique_ptr<StubProcess> stub, StubProcess::Spawn(page, memfd, opts));
  regions.CloseFd();
  std::shared_ptr<SystrapProcess> p(
      new SystrapProcess(std::move(stub), std::move(regions), variant, min_addr, max_addr));
  PAL_RETURN_IF_ERROR(p->SetUp(filter));
  PAL_ASSIGN_OR_RETURN(Thread first, p->SpawnThread());
  std::lock_guard<std::mutex> l(p->spawn_mu_);
  p->first_ = std::move(first);
  return p;
}

// The stub is stopped and traced, stripped to the stub page. Everything
// here is injected, in an order where each step still has what it needs;
// the filter goes last since it forbids most of them.
absl::Status SystrapProcess::SetUp(const std::vector<sock_filter>& filter) {
  auto inject = [&](const char* what, uint64_t nr, std::initializer_list<uint64_t> args,
                    int64_t want) -> absl::Status {
    ErrnoOr<int64_t> r = stub_->Inject(nr, args);
    if (!r.ok()) return ErrnoStatus(r.error().value(), "systrap stub set-up", what);
    if (*r != want) {
      return ErrnoStatus(*r < 0 ? static_cast<int>(-*r) : EINVAL, "systrap stub set-up", what);
    }
    return absl::OkStatus();
  };
  // The control page read-only: only the sentry writes the sync table.
  PAL_RETURN_IF_ERROR(inject("mmap control page", SYS_mmap,
                             {SharedRegions::kControlStubAddress, SharedRegions::kControlSize, PROT_READ,
                              MAP_SHARED | MAP_FIXED, StubProcess::kSharedFd, 0},
                             static_cast<int64_t>(SharedRegions::kControlStubAddress)));
  PAL_RETURN_IF_ERROR(inject("mmap regions", SYS_mmap,
                             {SharedRegions::kSlotsStubAddress, SharedRegions::kSlotsSize,
                              PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, StubProcess::kSharedFd,
                              SharedRegions::kSlotsOffset},
                             static_cast<int64_t>(SharedRegions::kSlotsStubAddress)));
  PAL_RETURN_IF_ERROR(inject("close", SYS_close, {StubProcess::kSharedFd}, 0));

  const SharedRegion spawner = regions_.Slot(0);
  char* scratch = spawner.At(PALISADE_SYSTRAP_SCRATCH_OFF, 4096);
  const uint64_t scratch_addr = spawner.stub_address() + PALISADE_SYSTRAP_SCRATCH_OFF;
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
  ss.ss_sp = reinterpret_cast<void*>(spawner.stub_address() + PALISADE_SYSTRAP_ALTSTACK_OFF);
  ss.ss_size = SharedRegion::kSize - PALISADE_SYSTRAP_ALTSTACK_OFF;
  std::memcpy(scratch, &ss, sizeof(ss));
  PAL_RETURN_IF_ERROR(inject("sigaltstack", SYS_sigaltstack, {scratch_addr, 0}, 0));
  // Every signal but the synchronous ones blocked, the kick too; the
  // threads the spawner clones inherit this mask until their first
  // rt_sigreturn installs their frame's (StubSignalMask): a kick sent
  // before then (an Interrupt() before the first Switch) stays pending and
  // arrives as an ordinary left-over kick. The synchronous ones must stay
  // unblocked: a fault or int3 raised while blocked (the int3 that ends
  // a mapping sync, say) makes the kernel reset its handler to the
  // default for the whole process. A fault sent to the process from
  // outside that lands on the spawner makes it report a frame with no
  // clone result: that spawn fails (SpawnThread checks), nothing worse.
  const uint64_t mask = StubSignalMask() | Bit(StubProcess::kKickSignal);
  std::memcpy(scratch, &mask, sizeof(mask));
  PAL_RETURN_IF_ERROR(
      inject("rt_sigprocmask", SYS_rt_sigprocmask, {SIG_SETMASK, scratch_addr, 0, 8}, 0));
  PAL_RETURN_IF_ERROR(inject("prctl(NO_NEW_PRIVS)", SYS_prctl, {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0}, 0));

  const size_t prog_bytes = filter.size() * sizeof(sock_filter);
  char* prog = spawner.At(PALISADE_SYSTRAP_SCRATCH_OFF + 64, prog_bytes);
  if (prog == nullptr) return absl::InternalError("systrap filter does not fit the shared region");
  std::memcpy(prog, filter.data(), prog_bytes);
  sock_fprog fprog{static_cast<unsigned short>(filter.size()),
                   reinterpret_cast<sock_filter*>(scratch_addr + 64)};
  std::memcpy(scratch, &fprog, sizeof(fprog));
  // With a listener for the mapping-sync calls (memop_listener.h): the
  // sentry takes a copy of it. The stub's own stays open (its filter no
  // longer lets it close anything); the stub cannot use it either: no
  // ioctl, read or poll from the stub page, and app code's calls trap.
  ErrnoOr<int64_t> listener = stub_->Inject(
      SYS_seccomp, {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, scratch_addr});
  if (!listener.ok()) return ErrnoStatus(listener.error().value(), "systrap stub set-up", "seccomp");
  if (*listener < 0) return ErrnoStatus(static_cast<int>(-*listener), "systrap stub set-up", "seccomp");
  std::memset(scratch, 0, 64 + prog_bytes);
  ErrnoOr<UniqueFd> fd = stub_->CopyFd(static_cast<int>(*listener));
  if (!fd.ok()) return ErrnoStatus(fd.error().value(), "pidfd_getfd of the stub's seccomp listener");
  listener_ = MemOpListener(std::move(*fd));

  // Off it goes, untraced, to wait in the stub page for SPAWN requests.
  Registers r;
  if (Errno e = stub_->GetRegs(r); !e.ok()) return ErrnoStatus(e.value(), "PTRACE_GETREGS");
  r.rip = StubPage::kAddress + variant_.wait;
  r.rbx = spawner.stub_address();
  r.orig_rax = ~uint64_t{0};
  if (Errno e = stub_->Detach(r); !e.ok()) return ErrnoStatus(e.value(), "PTRACE_DETACH");
  return absl::OkStatus();
}

int SystrapProcess::AllocSlotLocked() {
  // A slot is free again once its thread has exited: the kernel clears
  // the tid word then (CLONE_CHILD_CLEARTID).
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    if (regions_.Slot(*it).header().tid_word.load(std::memory_order_acquire) == 0) {
      free_.push_back(*it);
      it = retiring_.erase(it);
    } else {
      ++it;
    }
  }
  if (!free_.empty()) {
    const int s = free_.back();
    free_.pop_back();
    return s;
  }
  if (next_slot_ < SharedRegions::kMaxSlots) return next_slot_++;
  return -1;
}

absl::StatusOr<SystrapProcess::Thread> SystrapProcess::SpawnThread() {
  std::lock_guard<std::mutex> l(spawn_mu_);
  if (first_) {
    Thread t = std::move(*first_);
    first_.reset();
    return t;
  }
  const int slot = AllocSlotLocked();
  if (slot < 0) return ErrnoStatus(EAGAIN, "systrap: every thread slot of the stub process is in use");
  SharedRegion region = regions_.Slot(slot);
  SystrapHeader& h = region.header();
  h.state.store(PALISADE_SYSTRAP_STATE_IDLE);
  h.stub_sleeping.store(0);
  h.sentry_sleeping.store(0);
  // Not zero: zero means "exited" (CLONE_CHILD_SETTID writes the tid
  // once the thread runs).
  h.tid_word.store(~uint32_t{0});

  SystrapHeader& sh = regions_.Slot(0).header();
  sh.spawn_region.store(region.stub_address(), std::memory_order_relaxed);
  sh.spawn_result.store(0, std::memory_order_relaxed);
  PostToStub(sh, PALISADE_SYSTRAP_STATE_SPAWN);
  const bool answered = WaitForStub(sh, [this] { return !stub_->Exited(); }, nullptr);
  const int64_t r = static_cast<int64_t>(sh.spawn_result.load(std::memory_order_relaxed));
  sh.state.store(PALISADE_SYSTRAP_STATE_IDLE, std::memory_order_relaxed);
  if (!answered) {
    free_.push_back(slot);
    return ErrnoStatus(ESRCH, "systrap: the stub process died");
  }
  if (r <= 0) {
    free_.push_back(slot);
    return ErrnoStatus(r < 0 ? static_cast<int>(-r) : EINVAL, "systrap: clone in the stub process");
  }
  // The result came through memory the app can write: believe it only if
  // that thread is in our process.
  Thread t{slot, StubProcess::ForThread(*stub_, static_cast<pid_t>(r)), region};
  if (t.handle == nullptr || !t.handle->ThreadExists()) {
    retiring_.push_back(slot);
    return ErrnoStatus(ESRCH, "systrap: the stub's new thread is not there");
  }
  return t;
}

void SystrapProcess::ReleaseThread(Thread& t) {
  if (t.slot < 0) return;
  PostToStub(t.region.header(), PALISADE_SYSTRAP_STATE_EXIT);
  t.handle.reset();
  std::lock_guard<std::mutex> l(spawn_mu_);
  retiring_.push_back(t.slot);
  t.slot = -1;
}

void SystrapProcess::RefuseStrayCalls() {
  std::unique_lock<std::mutex> l(sync_mu_, std::try_to_lock);
  if (l.owns_lock()) listener_.RefusePending();
}

void SystrapProcess::ResetSync() {
  std::lock_guard<std::mutex> l(sync_mu_);
  sync_.Reset();
  synced_id_.store(0, std::memory_order_release);
}

bool SystrapProcess::RunMemOps(const std::vector<MemOp>& ops, Thread& t) {
  struct Entry {
    uint64_t nr, args[6], unused;
  };
  static_assert(sizeof(Entry) == PALISADE_SYSTRAP_MEMOPS_ENTRY);
  for (size_t first = 0; first < ops.size(); first += PALISADE_SYSTRAP_MEMOPS_MAX) {
    const size_t n = std::min<size_t>(ops.size() - first, PALISADE_SYSTRAP_MEMOPS_MAX);
    char* table = regions_.control();
    const uint64_t count = n;
    std::memcpy(table, &count, 8);
    auto* e = reinterpret_cast<Entry*>(table + 8);
    std::vector<MemOpCall> calls;
    calls.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      calls.push_back(MemOpSyscall(ops[first + i]));
      const MemOpCall& c = calls.back();
      e[i] = Entry{c.nr, {c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]}, 0};
    }
    char* results = t.region.At(PALISADE_SYSTRAP_SCRATCH_OFF, n * 8);
    std::memset(results, 0xff, n * 8);
    // The thread waits in the stub page (a syscall or fault it reported,
    // or fresh): it runs the table and reports.
    SystrapHeader& h = t.region.header();
    PostToStub(h, PALISADE_SYSTRAP_STATE_MEMOPS);
    StubProcess& stub = *t.handle;
    if (Errno err = listener_.Serve(stub.pid(), calls, [&stub] { return stub.ThreadExists(); });
        !err.ok()) {
      spdlog::error("systrap: stub {} thread {}: mapping sync failed: {}", pid(), stub.pid(), err.Name());
      return false;
    }
    // Its report follows the marker at once; the frame it reported before
    // is untouched (FRAME_RSP is only written by the signal handler).
    if (!WaitForStub(h, [&stub] { return stub.ThreadExists(); }, nullptr)) return false;
    for (size_t i = 0; i < n; ++i) {
      uint64_t result;
      std::memcpy(&result, results + 8 * i, 8);
      if (result != calls[i].want) {
        LogMemOpFailure(pid(), ops[first + i], static_cast<int64_t>(result));
        return false;
      }
    }
  }
  return true;
}

bool SystrapProcess::Sync(PtraceAddressSpace& as, Thread& t) {
  // Generation first: a change made after this read is seen next time.
  const uint64_t gen = as.generation();
  if (synced_gen_.load(std::memory_order_acquire) == gen &&
      synced_id_.load(std::memory_order_acquire) == as.id()) {
    return true;
  }
  std::lock_guard<std::mutex> l(sync_mu_);
  // Up to date with at least `gen` once this returns true.
  auto done = [&] {
    synced_id_.store(as.id(), std::memory_order_release);
    synced_gen_.store(gen, std::memory_order_release);
    return true;
  };
  if (sync_.UpToDate(as)) return done();
  // What to change, worked out first: often nothing (a change elsewhere
  // in the address space), and then the stub is left alone.
  std::vector<MemOp> ops;
  if (!sync_.Sync(as, [&ops](const MemOp& op) {
        ops.push_back(op);
        return true;
      })) {
    return false;
  }
  if (ops.empty()) return done();
  // The thread is waiting in its handler (or fresh, in systrap_wait). A
  // failure leaves the process's view unknown: the caller kills it.
  if (!RunMemOps(ops, t)) return false;
  return done();
}

absl::StatusOr<std::shared_ptr<SystrapProcess>> SystrapAddressSpace::Process(const Maker& make) {
  std::lock_guard<std::mutex> l(process_mu_);
  if (!process_) {
    PAL_ASSIGN_OR_RETURN(process_, make());
  }
  return process_;
}

}  // namespace palisade::platform
