// StubProcess: the host process that runs one application thread's code on
// the ptrace platform, and the ptrace mechanics to drive it. The stub
// factory (stub_factory.h) forks it, holding only the MemoryFile at kMemFd;
// the sentry thread that will drive it seizes it (becoming its tracer) and
// strips it down to the stub page (no other mapping, no rseq, clean FP
// state, a seccomp filter that only lets the stub page make syscalls:
// stub_filter.h), leaving it stopped. Application memory is mapped into
// it by injecting mmap/munmap syscalls (Inject); application code runs
// under PTRACE_SYSEMU, so the app itself can never make a host syscall.
//
//   PAL_ASSIGN_OR_RETURN(auto stub, StubProcess::Spawn(*page, memfd));
//   ErrnoOr<int64_t> r = stub->Inject(SYS_munmap, {addr, len});
//
// Threading: everything but Kick() must be called on the tracer thread.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <initializer_list>
#include <memory>

#include "absl/status/statusor.h"
#include "base/errno.h"
#include "base/unique_fd.h"
#include "platform/platform.h"
#include "platform/ptrace/stub_page.h"

namespace palisade::platform {

// A signal raised by the stub's own instruction (SIGSEGV, SIGBUS, SIGILL,
// SIGFPE, SIGTRAP, SIGSYS with a kernel si_code), as opposed to one sent to
// it by kill/tgkill/sigqueue.
bool IsSynchronousSignal(const siginfo_t& si);

// How a stub is set up. The defaults are the ptrace platform's; the systrap
// platform (platform/systrap/) reuses the same set-up with these changed.
struct StubOptions {
  // Install the ptrace platform's filter (stub_filter.h) during set-up.
  // systrap installs its own later, through Inject().
  bool ptrace_filter = true;
  // A second fd the stub keeps, as kSharedFd (-1: none).
  int shared_fd = -1;
};

class StubProcess {
 public:
  // The signal Kick() sends to stop the stub promptly (Context::Interrupt).
  static constexpr int kKickSignal = SIGUSR2;
  // The fd number of the MemoryFile inside every stub (injected mmaps use
  // it); every other fd is closed.
  static constexpr int kMemFd = 100;
  // StubOptions::shared_fd's number inside the stub.
  static constexpr int kSharedFd = 101;

  // Gets a stub from the factory and prepares it. The calling thread
  // becomes its tracer.
  static absl::StatusOr<std::unique_ptr<StubProcess>> Spawn(const StubPage& page, int memfd,
                                                            const StubOptions& opts = {});
  // A handle on another host thread `tid` of `process` (systrap: one
  // process, a thread per app thread), untraced: Kick() reaches that
  // thread alone, ThreadExists() checks it, Kill() kills the whole
  // process, the destructor kills nothing.
  static std::unique_ptr<StubProcess> ForThread(const StubProcess& process, pid_t tid);
  // Kills and reaps the stub (a thread handle: detaches if attached).
  ~StubProcess();
  StubProcess(const StubProcess&) = delete;
  StubProcess& operator=(const StubProcess&) = delete;

  pid_t pid() const { return pid_; }
  // False once the stub has been reaped (it died or was killed).
  bool alive() const { return alive_; }

  // Runs host syscall nr(args...) inside the stub and returns its raw
  // result (a negative errno on failure). The stub's registers are
  // clobbered: callers set the app's registers before running it again.
  // An Errno means the ptrace machinery failed; the stub is then unusable.
  // REQUIRES: the stub is stopped.
  ErrnoOr<int64_t> Inject(uint64_t nr, std::initializer_list<uint64_t> args);

  // Restarts the stopped stub with `request` (PTRACE_SYSEMU, PTRACE_CONT),
  // suppressing any signal it stopped for, and waits for its next state
  // change. Returns the waitpid status; if it says the stub exited or was
  // killed, alive() is false from then on.
  ErrnoOr<int> ResumeAndWait(int request);

  Errno GetRegs(Registers& regs) const;
  Errno SetRegs(const Registers& regs) const;
  // EINVAL for a group-stop (no siginfo), as ptrace reports it.
  Errno GetSigInfo(siginfo_t& info) const;
  Errno GetFpRegs(FpState& fp) const;
  Errno SetFpRegs(const FpState& fp) const;

  // systrap: lets the stopped stub run untraced (with regs) once it is set
  // up. Only the thread that spawned the stub may call it.
  Errno Detach(const Registers& regs);
  // Reaps the stub if it has exited (untraced stubs die without a ptrace
  // stop). Returns alive().
  bool PollAlive();

  // A copy, in the sentry, of the stub's fd `fd` (pidfd_getfd; the
  // caller is the stub's tracer).
  ErrnoOr<UniqueFd> CopyFd(int fd) const;
  // From any thread: the process has exited (polls the pidfd; unlike
  // PollAlive, changes nothing).
  bool Exited() const;
  // From any thread: this handle's thread still exists (a thread handle's
  // thread may end alone). False once the process has exited.
  bool ThreadExists() const;

  // From any thread: sends kKickSignal to the stub (its thread). Safe even after the
  // stub died and was reaped (the pidfd cannot reach a reused pid).
  void Kick() const;
  // From any thread: the stub's host CPU time in ns (user + system), read
  // through its process CPU clock. ESRCH once the stub has exited: the
  // pidfd is checked after the read, so a value is never taken from an
  // unrelated process that reused the pid.
  ErrnoOr<int64_t> CpuTimeNs() const;
  // From any thread: SIGKILLs the process without waiting.
  void SendKill() const;
  // SIGKILLs the stub without waiting for it to be gone (an untraced stub
  // is reaped by the factory; SIGKILL lets it run no more code). A traced
  // one is killed and reaped as by Kill().
  void Abandon();
  // SIGKILLs the stub and reaps it. Idempotent.
  void Kill();

 private:
  StubProcess(const StubPage& page, pid_t pid, UniqueFd pidfd, const StubOptions& opts);
  bool is_thread() const { return tgid_ != pid_; }
  ErrnoOr<int> Wait();
  // Sets r (the stub is stopped), resumes until it traps with rip ==
  // done_rip, letting the syscalls on the way run, and returns its
  // registers then. EFAULT if it faults instead, logged as running
  // `what` `which` (a syscall number, a code offset).
  ErrnoOr<Registers> RunUntilTrap(Registers r, uint64_t done_rip, const char* what, uint64_t which);
  // Pins the stub to the CPU the calling (tracer) thread is on, so that
  // each ptrace stop and resume hands over on one CPU: a wake-up across
  // CPUs costs tens of microseconds on a VM whose idle vCPUs halt, more
  // than the whole round trip otherwise (the same trick as gVisor's
  // ptrace platform). Re-pinned when the tracer has moved.
  void BindToCallerCpu();
  // Lets the stub run on any CPU the sentry may use again (untraced).
  void Unbind();
  absl::Status Prepare();
  absl::Status UnregisterRseq();
  absl::Status InstallFilter();
  absl::Status RunUnmapAll();
  absl::Status ResetFpState();

  const StubPage& page_;
  const pid_t pid_;   // the traced/kicked thread (the process, or ForThread's tid)
  pid_t tgid_;        // the process
  const UniqueFd pidfd_;  // for signals that cannot hit a recycled pid
  const StubOptions opts_;
  bool alive_ = true;
  bool attached_ = true;  // traced by the spawning thread
  int bound_cpu_ = -1;    // BindToCallerCpu(), or -1
  // Registers of the stub as prepared (valid segment selectors): the base
  // for every injected syscall.
  Registers base_regs_{};
};

}  // namespace palisade::platform
