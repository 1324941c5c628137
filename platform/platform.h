// The platform interface: the only thing the sentry knows about how
// application machine code runs. A Platform makes AddressSpaces (what the
// app can address: ranges of the sentry's MemoryFile mapped at addresses)
// and Contexts (a host execution vehicle for one application thread).
// The sentry drives a Context with Switch(): run the app with the given
// registers in the given address space until something happens, then
// report that event with the registers updated.
//
//   auto p = Platform::Create("ptrace", memfd);
//   auto as = (*p)->NewAddressSpace();
//   as->MapFile(0x400000, 0x1000, file_off, PROT_READ | PROT_EXEC);
//   auto ctx = (*p)->NewContext();          // on the task's own host thread
//   platform::Event ev = ctx->Switch(*as, regs);
#pragma once

#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/errno.h"

namespace palisade::platform {

// General-purpose registers as ptrace reports them (x86-64), fs_base and
// gs_base included. orig_rax holds the syscall number on a syscall event.
using Registers = user_regs_struct;

// Registers for a new application thread that starts at rip with stack
// rsp: the 64-bit user code and stack segments Linux gives a 64-bit
// process (cs 0x33, ss 0x2b), eflags with IF, everything else zero. Switch
// needs valid cs/ss; start from this rather than from a zeroed struct.
// (Added with the ptrace platform.)
Registers InitialRegisters(uint64_t rip, uint64_t rsp);

// The legacy FXSAVE area (512 bytes): x87, MXCSR and XMM0-15. Enough for a
// signal frame's fpstate; AVX upper halves are not preserved yet.
using FpState = user_fpregs_struct;

// The FP state execve gives a thread: x87 control word 0x37f and MXCSR
// 0x1f80 (every exception masked), all registers zero.
FpState InitialFpState();

enum class EventKind {
  kSyscall,      // app executed `syscall`; rip points after it, orig_rax=nr.
  kFault,        // a memory access faulted; fault_addr says where.
  kSignal,       // a synchronous signal (SIGILL, SIGFPE, SIGTRAP, SIGBUS..)
                 // raised by the app's own instruction; info has details.
  kInterrupted,  // Interrupt() was called; the app was stopped cleanly.
  kDied,         // the host vehicle is gone (killed from outside): fatal.
};

struct Event {
  EventKind kind = EventKind::kInterrupted;
  uint64_t fault_addr = 0;  // kFault: the faulting address.
  // kFault: the host's si_code (SEGV_MAPERR/SEGV_ACCERR), informational.
  // The access type (read/write/exec) is not known on ptrace.
  int fault_code = 0;
  siginfo_t info{};  // kSignal (and kFault: the host siginfo).
};

// A set of memory mappings an application sees. Thread-safe.
// Visibility (ptrace platform): a change reaches a Context at the start of
// its next Switch(); a thread already running app code keeps its old view
// until then. To make an Unmap or a protection downgrade take effect at
// once, Interrupt() the Contexts using this address space.
class AddressSpace {
 public:
  virtual ~AddressSpace() = default;
  // Maps [addr, addr+len) to MemoryFile bytes [file_offset, +len) with
  // PROT_* prot, replacing whatever was mapped there (like MAP_FIXED).
  // addr, len and file_offset are page aligned.
  virtual Errno MapFile(uint64_t addr, uint64_t len, uint64_t file_offset, int prot) = 0;
  // Removes any mapping in [addr, addr+len). Page aligned.
  virtual void Unmap(uint64_t addr, uint64_t len) = 0;
};

// One application thread's vehicle. NewContext() and every call except
// Interrupt() must happen on the same host thread (ptrace: the tracer).
class Context {
 public:
  virtual ~Context() = default;
  // Runs the app with regs in as until the next event; regs are updated.
  // Before returning to the app after a kSyscall, the caller sets the
  // result in regs.rax; Switch resumes after the syscall instruction.
  // To restart a syscall the caller rewinds regs.rip by 2 and restores rax.
  virtual Event Switch(AddressSpace& as, Registers& regs) = 0;
  // From any thread: makes the current Switch (or the next one, if none is
  // running) return kInterrupted soon.
  virtual void Interrupt() = 0;
  // FP/SSE state of the app thread, for signal frames and fork.
  virtual Errno GetFpState(FpState& fp) = 0;
  virtual Errno SetFpState(const FpState& fp) = 0;
  // Forgets what the context believes its vehicle has mapped: the next
  // Switch() gives the app a clean view of its AddressSpace (only that
  // space's current mappings), even if it is the same object as before.
  // Switch() does this by itself when handed a different AddressSpace than
  // last time (e.g. after execve). A platform that keeps no per-context
  // view of the address space has nothing to forget, hence the default.
  // (Added with the ptrace platform.)
  virtual void ResetAddressSpace() {}
  // Gets the vehicle ready to run in `as` now rather than at the first
  // Switch(), so that running out of host resources (the pids limit) is
  // reported here, where the caller can still fail a clone with EAGAIN,
  // instead of as kDied. A platform whose vehicle is ready from
  // NewContext() has nothing to do, hence the default.
  // (Added with systrap's host threads per address space.)
  virtual Errno Prepare(AddressSpace& as) { (void)as; return Errno::Ok(); }
  // Host CPU time (ns, user + system) the vehicle running this thread has
  // used since it was created: the app's own instructions plus the host
  // kernel's work for it (faults, trap delivery). Cumulative and never
  // smaller than an earlier reading while the vehicle lives. Callable from
  // any thread, but not concurrently with the destructor. ESRCH once the
  // vehicle is gone; ENOSYS if the platform cannot tell. Callers keep
  // their own baseline (a vehicle may have run before it was handed out).
  // (Added with CPU-time accounting: sentry/kernel/cpu_clock.h.)
  virtual ErrnoOr<int64_t> HostCpuTimeNs() const { return Errno(ENOSYS); }
  // Time the driving sentry thread has spent spinning for this context's
  // events so far (ns, never decreasing). The app runs meanwhile and its
  // vehicle's CPU time counts that, so the task's system time leaves it
  // out. Safe from any thread.
  virtual int64_t SentrySpinNs() const { return 0; }
};

class Platform {
 public:
  virtual ~Platform() = default;
  // Names accepted by Create(): "systrap" (the default) and "ptrace".
  static std::vector<std::string> Names();
  // memfd: the MemoryFile's host fd; AddressSpaces map ranges of it.
  // Unknown name: InvalidArgument listing the valid names.
  static absl::StatusOr<std::unique_ptr<Platform>> Create(const std::string& name, int memfd);

  virtual std::unique_ptr<AddressSpace> NewAddressSpace() = 0;
  // REQUIRES: called on the host thread that will drive the Context.
  virtual absl::StatusOr<std::unique_ptr<Context>> NewContext() = 0;
  // Application addresses must lie in [MinUserAddress, MaxUserAddress).
  virtual uint64_t MinUserAddress() const = 0;
  virtual uint64_t MaxUserAddress() const = 0;
};

}  // namespace palisade::platform
