// SystrapContext: one application thread on the systrap platform. It runs
// as a host thread of its address space's stub process (systrap_process.h),
// untraced under a seccomp filter (stub_filter.h): a syscall raises
// SIGSYS, whose handler in the stub page leaves the app's registers in a
// signal frame in the thread's shared region (shared_region.h), wakes the
// sentry and waits; Switch() returns the event, and the next Switch()
// edits the frame and lets the stub rt_sigreturn into the app. Faults and
// the Interrupt() kick take the same path. No ptrace stop and no syscall
// injection per app syscall: a round trip is two futex hand-offs.
//
// The host thread is made at the first Switch() (in the address space's
// process, which the first thread to run there takes from the pool), and
// replaced when Switch() is handed another address space (execve).
// Mappings are synced by the process (SystrapProcess::Sync).
//
// Threading: everything but Interrupt(), HostCpuTimeNs() and
// SentrySpinNs() on the thread that drives the context.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "platform/systrap/systrap_process.h"

namespace palisade::platform {

class SystrapContext final : public Context {
 public:
  using ProcessMaker = SystrapAddressSpace::Maker;
  // make: a new stub process, for an address space that has none yet.
  explicit SystrapContext(ProcessMaker make) : make_(std::move(make)) {}
  ~SystrapContext() override;

  // Events as platform.h, plus (as PtraceContext):
  // - kSignal SIGSEGV (SI_KERNEL) for registers the host would refuse (a
  //   code segment other than 0x33/0x23, a stack segment other than 0x2b);
  // - kSignal SIGSYS (SYS_SECCOMP) for a call into the vsyscall page;
  // - kSyscall for `int $0x80` too (i386 numbers; si_arch tells);
  // - kDied if the stub process was killed, or this thread reported a
  //   frame outside its shared region (only a forged report can: the
  //   process is killed).
  Event Switch(AddressSpace& as, Registers& regs) override;
  void Interrupt() override;
  Errno GetFpState(FpState& fp) override;
  Errno SetFpState(const FpState& fp) override;
  void ResetAddressSpace() override;
  // The wall time the app thread has run (between handing it a RUN and
  // its next report): another thread's CPU clock cannot be read on Linux,
  // and every app thread is one. Includes the host's trap delivery, and
  // time the host gave the CPU to something else meanwhile.
  ErrnoOr<int64_t> HostCpuTimeNs() const override;
  int64_t SentrySpinNs() const override { return spin_ns_.load(std::memory_order_relaxed); }

  // Makes the host thread in as's process now (EAGAIN if it cannot be).
  Errno Prepare(AddressSpace& as) override;
  // The stub process's pid (0 before the first Switch) and its host
  // thread's tid, for tests.
  pid_t stub_pid() const { return process_ ? process_->pid() : 0; }
  pid_t stub_tid() const { return thread_.handle ? thread_.handle->pid() : 0; }

 private:
  // Gives this context a host thread in as's process. False: died.
  bool Bind(SystrapAddressSpace& as);
  void Unbind();
  void BuildFreshFrame();
  void WriteFrame(const Registers& regs);
  // Lets the stub run the frame; waits for its next report. False: died.
  bool RunAndWait();
  // Validates and adopts the frame the stub reported; fills regs and ev.
  // False: the report is bogus (the process is killed).
  bool ReadEvent(Registers& regs, Event& ev);
  struct sigcontext* Sigcontext() const;
  char* FpArea() const;
  Event Died();

  const ProcessMaker make_;
  std::shared_ptr<SystrapProcess> process_;
  // Changed by the driving thread under kick_mu_; Interrupt() reads it
  // under kick_mu_.
  SystrapProcess::Thread thread_;
  mutable std::mutex kick_mu_;
  uint64_t bound_as_id_ = 0;  // PtraceAddressSpace::id() of the space the thread is in
  bool dead_ = false;
  std::optional<FpState> pending_fp_;  // SetFpState before the first Switch
  std::atomic<bool> interrupt_{false};
  std::atomic<int64_t> spin_ns_{0};      // RunAndWait's spinning, in wall time
  std::atomic<int64_t> app_ns_{0};       // app run time, finished runs
  std::atomic<int64_t> running_since_{0};  // start of the current run, or 0
  // Offset in the region of the frame the stub will rt_sigreturn through
  // (its pretcode word).
  uint64_t frame_off_ = 0;
};

}  // namespace palisade::platform
