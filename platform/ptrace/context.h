// PtraceContext: one application thread on the ptrace platform. It owns a
// StubProcess (a host process traced by the thread that made the context)
// and runs the app in it with PTRACE_SYSEMU, so every app syscall stops
// the stub and comes back to the sentry as a kSyscall event.
//
// Memory: at the start of each Switch() the context brings its stub's
// mappings up to date with the AddressSpace it is given, by injecting
// mmap(MAP_SHARED|MAP_FIXED) / munmap calls for the ranges that changed
// since its last sync (see address_space.h for when changes become
// visible). Switching to a different AddressSpace than last time, or after
// ResetAddressSpace(), first unmaps the whole app range.
//
//   auto ctx = platform.NewContext();  // on the task's thread
//   Event ev = (*ctx)->Switch(as, regs);
//   if (ev.kind == EventKind::kSyscall) { regs.rax = Handle(regs); ... }
//
// Threading: everything except Interrupt() must run on the thread that
// created the context (the ptrace tracer). Interrupt() must not race with
// the destructor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "platform/platform.h"
#include "platform/ptrace/address_space.h"
#include "platform/ptrace/mapping_sync.h"
#include "platform/ptrace/stub_process.h"

namespace palisade::platform {

class PtraceContext final : public Context {
 public:
  PtraceContext(std::unique_ptr<StubProcess> stub, uint64_t min_addr, uint64_t max_addr);
  // Kills and reaps the stub.
  ~PtraceContext() override = default;

  // Besides the events documented in platform.h:
  // - kSignal SIGSEGV (si_code SI_KERNEL) if the host refuses regs (bad
  //   segment selectors), as Linux does for a bad sigreturn frame; the app
  //   did not run.
  // - kDied also when the stub's memory could not be made to match `as`
  //   (an injected mmap failed: logged); the stub is killed.
  // - kSyscall is also what `int $0x80` gives (ptrace reports it the same
  //   way), with i386 syscall numbers; the bytes before rip (cd 80 rather
  //   than 0f 05) tell them apart if the sentry cares.
  // - kSignal SIGSYS (si_code SYS_SECCOMP) for a call into the host's
  //   vsyscall page, which the host would otherwise run itself; si_syscall
  //   says which (see stub_filter.h).
  // REQUIRES: `as` comes from the same PtracePlatform.
  Event Switch(AddressSpace& as, Registers& regs) override;
  void Interrupt() override;
  Errno GetFpState(FpState& fp) override;
  Errno SetFpState(const FpState& fp) override;
  void ResetAddressSpace() override;
  // The stub process's CPU time (one stub per context).
  ErrnoOr<int64_t> HostCpuTimeNs() const override { return stub_->CpuTimeNs(); }

  // The stub's host pid, for diagnostics and tests.
  pid_t stub_pid() const { return stub_->pid(); }

 private:
  // Makes the stub's mappings match `as`. False: the stub was killed.
  bool Sync(PtraceAddressSpace& as);
  Event Run(Registers& regs);

  const std::unique_ptr<StubProcess> stub_;
  std::atomic<bool> interrupt_{false};  // Interrupt() was called
  MappingSync sync_;  // what the stub really has mapped
};

}  // namespace palisade::platform
