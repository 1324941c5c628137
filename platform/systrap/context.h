// SystrapContext: one application thread on the systrap platform. Like the
// ptrace platform it owns a stub process (one per app thread, forked from
// the sentry and stripped to the stub page), but the app runs in it
// untraced under a seccomp filter (stub_filter.h): a syscall raises SIGSYS,
// whose handler in the stub page leaves the app's registers in a signal
// frame in the shared region (shared_region.h), wakes the sentry and waits;
// Switch() returns the event, and the next Switch() edits the frame and
// lets the stub rt_sigreturn into the app. Faults and the Interrupt() kick
// take the same path. No ptrace stop and no syscall injection per app
// syscall: a round trip is two futex hand-offs.
//
// Mappings are synced as on ptrace (mapping_sync.h): when the AddressSpace
// changed, Switch() traces the waiting stub (PTRACE_SEIZE), injects the
// mmap/munmap calls, and detaches again.
//
// Threading: as PtraceContext (everything but Interrupt() on the thread
// that created the context).
#pragma once

#include <linux/filter.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "platform/ptrace/address_space.h"
#include "platform/ptrace/mapping_sync.h"
#include "platform/ptrace/stub_page.h"
#include "platform/ptrace/stub_process.h"
#include "platform/systrap/shared_region.h"
#include "platform/systrap/stub_variant.h"

namespace palisade::platform {

class SystrapContext final : public Context {
 public:
  // Spawns and sets up a stub. filter: the program from BuildSystrapFilter()
  // for `variant`.
  static absl::StatusOr<std::unique_ptr<SystrapContext>> Create(
      const StubPage& page, int memfd, const std::vector<sock_filter>& filter,
      SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr);
  ~SystrapContext() override = default;

  // Events as platform.h, plus (as PtraceContext):
  // - kSignal SIGSEGV (SI_KERNEL) for registers the host would refuse (a
  //   code segment other than 0x33/0x23, a stack segment other than 0x2b);
  // - kSignal SIGSYS (SYS_SECCOMP) for a call into the vsyscall page;
  // - kSyscall for `int $0x80` too (i386 numbers; si_arch tells);
  // - kDied if the stub was killed, or reported a frame outside its
  //   shared region (only a forged report can: the stub is killed).
  Event Switch(AddressSpace& as, Registers& regs) override;
  void Interrupt() override;
  Errno GetFpState(FpState& fp) override;
  Errno SetFpState(const FpState& fp) override;
  void ResetAddressSpace() override { sync_.Reset(); }
  // The stub process's CPU time (one stub per context).
  ErrnoOr<int64_t> HostCpuTimeNs() const override { return stub_->CpuTimeNs(); }
  int64_t SentrySpinNs() const override { return spin_ns_.load(std::memory_order_relaxed); }

  pid_t stub_pid() const { return stub_->pid(); }
  // The stub is still alive (polls its pidfd). The driving thread only.
  bool StubAlive() { return stub_->PollAlive(); }

 private:
  SystrapContext(std::unique_ptr<StubProcess> stub, SharedRegion region,
                 SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr);
  absl::Status SetUpStub(const std::vector<sock_filter>& filter);
  void BuildFreshFrame();
  void WriteFrame(const Registers& regs);
  bool Sync(PtraceAddressSpace& as);
  // Runs ops in the stopped, traced stub through its sync table
  // (systrap_memops). False (logged) if one failed.
  bool RunMemOps(const std::vector<MemOp>& ops);
  // Lets the stub run the frame; waits for its next report. False: died.
  bool RunAndWait();
  // Validates and adopts the frame the stub reported; fills regs and ev.
  // False: the report is bogus (the stub is killed).
  bool ReadEvent(Registers& regs, Event& ev);
  struct sigcontext* Sigcontext() const;
  char* FpArea() const;
  Event Died();

  const std::unique_ptr<StubProcess> stub_;
  SharedRegion region_;
  const SystrapStubVariant variant_;
  std::atomic<bool> interrupt_{false};
  std::atomic<int64_t> spin_ns_{0};  // RunAndWait's spinning, in wall time
  MappingSync sync_;
  // Offset in the region of the frame the stub will rt_sigreturn through
  // (its pretcode word).
  uint64_t frame_off_ = 0;
};

}  // namespace palisade::platform
