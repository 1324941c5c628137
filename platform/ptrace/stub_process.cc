#include "platform/ptrace/stub_process.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/rseq.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "platform/ptrace/stub_factory.h"
#include "platform/ptrace/stub_filter.h"
#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

// ptrace options of every stub (Spawn and Attach).
constexpr long kTraceOptions = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;

}  // namespace

bool IsSynchronousSignal(const siginfo_t& si) {
  switch (si.si_signo) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS:
      return si.si_code > 0;  // SI_USER, SI_TKILL, SI_QUEUE... are <= 0
    default:
      return false;
  }
}

StubProcess::StubProcess(const StubPage& page, pid_t pid, UniqueFd pidfd,
                         const StubOptions& opts)
    : page_(page), pid_(pid), tgid_(pid), pidfd_(std::move(pidfd)), opts_(opts) {}

StubProcess::~StubProcess() {
  if (!is_thread()) Kill();
}

std::unique_ptr<StubProcess> StubProcess::ForThread(const StubProcess& process, pid_t tid) {
  UniqueFd pidfd(fcntl(process.pidfd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!pidfd.ok()) return nullptr;
  std::unique_ptr<StubProcess> t(new StubProcess(process.page_, tid, std::move(pidfd), process.opts_));
  t->tgid_ = process.pid_;
  t->attached_ = false;
  return t;
}

absl::StatusOr<std::unique_ptr<StubProcess>> StubProcess::Spawn(const StubPage& page, int memfd,
                                                                const StubOptions& opts) {
  PAL_ASSIGN_OR_RETURN(StubFactory * factory, StubFactory::Get());
  PAL_ASSIGN_OR_RETURN(StubFactory::NewStub ns, factory->Create(memfd, opts.shared_fd));
  // The stub waits in pause() with every signal blocked. Seizing it makes
  // this thread its tracer (the sentry is its ancestor: stub_factory.h).
  if (ptrace(PTRACE_SEIZE, ns.pid, 0, kTraceOptions) != 0) {
    const int err = errno;
    syscall(SYS_pidfd_send_signal, ns.pidfd.get(), SIGKILL, nullptr, 0);
    return ErrnoStatus(err, "PTRACE_SEIZE stub", std::to_string(ns.pid));
  }
  std::unique_ptr<StubProcess> s(new StubProcess(page, ns.pid, std::move(ns.pidfd), opts));
  if (absl::Status st = s->Prepare(); !st.ok()) return st;  // ~StubProcess kills it
  spdlog::debug("platform: stub {} ready", s->pid());
  return s;
}

absl::Status StubProcess::Prepare() {
  // Stop it where it waits (PTRACE_EVENT_STOP). The options set by the
  // seize: EXITKILL, the stub dies with its tracer thread; TRACESYSGOOD,
  // syscall stops are told apart from real SIGTRAPs.
  if (ptrace(PTRACE_INTERRUPT, pid_, 0, 0) != 0) return ErrnoStatus(errno, "PTRACE_INTERRUPT stub");
  for (;;) {
    ErrnoOr<int> st = Wait();
    if (!st.ok()) return ErrnoStatus(st.error().value(), "waitpid stub");
    if (WIFEXITED(*st) || WIFSIGNALED(*st)) {
      return absl::InternalError(absl::StrFormat("stub %d died during set-up (status %#x)", pid_, *st));
    }
    if (WIFSTOPPED(*st) && (*st >> 16) == PTRACE_EVENT_STOP) break;
    if (ptrace(PTRACE_CONT, pid_, 0, 0) != 0) return ErrnoStatus(errno, "PTRACE_CONT stub");
  }
  // Traced now: every signal becomes a stop the tracer suppresses, so the
  // app (and Interrupt's kick) may receive any signal.
  const uint64_t none = 0;
  if (ptrace(PTRACE_SETSIGMASK, pid_, sizeof(none), &none) != 0) {
    return ErrnoStatus(errno, "PTRACE_SETSIGMASK stub");
  }
  if (Errno e = GetRegs(base_regs_); !e.ok()) return ErrnoStatus(e.value(), "PTRACE_GETREGS");
  PAL_RETURN_IF_ERROR(UnregisterRseq());
  if (opts_.ptrace_filter) PAL_RETURN_IF_ERROR(InstallFilter());
  PAL_RETURN_IF_ERROR(RunUnmapAll());
  return ResetFpState();
}

// glibc registered an rseq area (in the sentry thread's TLS) that the
// child inherited. Once that memory is unmapped, the kernel's rseq update
// on preemption or migration would fault and SIGSEGV the app at random.
absl::Status StubProcess::UnregisterRseq() {
  __ptrace_rseq_configuration conf{};
  if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid_, sizeof(conf), &conf) < 0) {
    return ErrnoStatus(errno, "PTRACE_GET_RSEQ_CONFIGURATION (needs Linux 5.13+)");
  }
  if (conf.rseq_abi_pointer == 0) return absl::OkStatus();
  ErrnoOr<int64_t> r = Inject(SYS_rseq, {conf.rseq_abi_pointer, conf.rseq_abi_size,
                                         RSEQ_FLAG_UNREGISTER, conf.signature});
  if (!r.ok()) return ErrnoStatus(r.error().value(), "inject rseq unregister");
  if (*r != 0) return ErrnoStatus(static_cast<int>(-*r), "rseq(RSEQ_FLAG_UNREGISTER) in stub");
  return absl::OkStatus();
}

// While the stub still has its copy of the factory's memory (the sentry's
// image when the factory started), the filter program is at the same
// address there (see stub_filter.h).
absl::Status StubProcess::InstallFilter() {
  ErrnoOr<int64_t> r = Inject(SYS_prctl, {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0});
  if (!r.ok()) return ErrnoStatus(r.error().value(), "inject prctl(PR_SET_NO_NEW_PRIVS)");
  if (*r != 0) return ErrnoStatus(static_cast<int>(-*r), "prctl(PR_SET_NO_NEW_PRIVS) in stub");
  r = Inject(SYS_seccomp, {SECCOMP_SET_MODE_FILTER, 0,
                           reinterpret_cast<uint64_t>(&StubSeccompProgram())});
  if (!r.ok()) return ErrnoStatus(r.error().value(), "inject seccomp");
  if (*r != 0) return ErrnoStatus(static_cast<int>(-*r), "seccomp(SET_MODE_FILTER) in stub");
  return absl::OkStatus();
}

absl::Status StubProcess::RunUnmapAll() {
  Registers r = base_regs_;
  r.rip = page_.unmap_all();
  r.orig_rax = ~uint64_t{0};  // not in a syscall: no restart logic applies
  if (Errno e = SetRegs(r); !e.ok()) return ErrnoStatus(e.value(), "PTRACE_SETREGS");
  for (;;) {
    ErrnoOr<int> st = ResumeAndWait(PTRACE_CONT);
    if (!st.ok() || !alive_) return absl::InternalError("ptrace stub died in unmap_all");
    if (WSTOPSIG(*st) != SIGTRAP) continue;  // a stray signal: suppressed
    if (Errno e = GetRegs(r); !e.ok()) return ErrnoStatus(e.value(), "PTRACE_GETREGS");
    if (r.rip == page_.unmap_all_done()) break;
  }
  const int64_t below = static_cast<int64_t>(r.r12);
  const int64_t above = static_cast<int64_t>(r.r13);
  const int64_t high = static_cast<int64_t>(r.r14);
  if (below != 0 || above != 0 || (high != 0 && high != -EINVAL)) {
    return absl::InternalError(absl::StrFormat(
        "ptrace stub %d: munmap results %d, %d, %d in unmap_all", pid_, below, above, high));
  }
  return absl::OkStatus();
}

// The child inherited the sentry thread's FP/SSE/AVX registers: sentry data
// must not leak to the app, and a new thread starts from the init state.
absl::Status StubProcess::ResetFpState() {
  std::vector<uint8_t> buf(64 * 1024);  // beyond any XSAVE size (AMX: ~11 KiB)
  iovec iov{buf.data(), buf.size()};
  if (ptrace(PTRACE_GETREGSET, pid_, NT_X86_XSTATE, &iov) != 0) {
    return ErrnoStatus(errno, "PTRACE_GETREGSET(NT_X86_XSTATE)");
  }
  constexpr size_t kLegacy = 512, kHeader = 64;
  if (iov.iov_len < kLegacy + kHeader) return absl::InternalError("XSAVE area too small");
  uint32_t mxcsr_mask;
  uint64_t xstate_bv;
  std::memcpy(&mxcsr_mask, &buf[28], 4);
  std::memcpy(&xstate_bv, &buf[kLegacy], 8);
  // Legacy area: x87 control word 0x37f and MXCSR 0x1f80 (the values
  // execve gives), all x87/XMM registers zero.
  std::memset(buf.data(), 0, kLegacy + kHeader);
  const uint16_t fcw = 0x37f;
  const uint32_t mxcsr = 0x1f80;
  std::memcpy(&buf[0], &fcw, 2);
  std::memcpy(&buf[24], &mxcsr, 4);
  std::memcpy(&buf[28], &mxcsr_mask, 4);
  // XSTATE_BV: FP and SSE come from this buffer; every other component is
  // left out, which makes the kernel load its init state (zero YMM upper
  // halves, AVX-512, AMX...). PKRU (bit 9) is kept as inherited.
  xstate_bv = 0x3 | (xstate_bv & (uint64_t{1} << 9));
  std::memcpy(&buf[kLegacy], &xstate_bv, 8);
  if (ptrace(PTRACE_SETREGSET, pid_, NT_X86_XSTATE, &iov) != 0) {
    return ErrnoStatus(errno, "PTRACE_SETREGSET(NT_X86_XSTATE)");
  }
  return absl::OkStatus();
}

ErrnoOr<Registers> StubProcess::RunUntilTrap(Registers r, uint64_t done_rip, const char* what, uint64_t which) {
  if (!alive_) return Errno(ESRCH);
  r.orig_rax = ~uint64_t{0};
  PAL_TRY_ERRNO(SetRegs(r));
  for (;;) {
    PAL_TRY(int status, ResumeAndWait(PTRACE_CONT));
    if (!alive_) return Errno(ESRCH);
    // A PTRACE_EVENT_STOP (a group-stop or leftover interrupt): go on.
    if ((status >> 16) != 0) continue;
    if (WSTOPSIG(status) == SIGTRAP) {
      PAL_TRY_ERRNO(GetRegs(r));
      if (r.rip == done_rip) return r;
    }
    siginfo_t si;
    if (GetSigInfo(si).ok() && IsSynchronousSignal(si)) {
      spdlog::error("ptrace: stub {} got signal {} (code {}) running {} {:#x}", pid_, si.si_signo,
                    si.si_code, what, which);
      return Errno(EFAULT);
    }
    // A kick or a signal from outside: the next resume suppresses it.
  }
}

ErrnoOr<int64_t> StubProcess::Inject(uint64_t nr, std::initializer_list<uint64_t> args) {
  Registers r = base_regs_;
  r.rip = page_.syscall_insn();
  r.rax = nr;
  decltype(r.rdi)* const slots[] = {&r.rdi, &r.rsi, &r.rdx, &r.r10, &r.r8, &r.r9};
  size_t i = 0;
  for (uint64_t a : args) *slots[i++] = a;
  PAL_TRY(Registers after, RunUntilTrap(r, page_.syscall_done(), "injected syscall", nr));
  return static_cast<int64_t>(after.rax);
}

void StubProcess::BindToCallerCpu() {
  const int cpu = sched_getcpu();  // vDSO: no syscall
  if (cpu < 0 || cpu == bound_cpu_ || cpu >= CPU_SETSIZE) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // A failure (a cpuset that changed under us) only costs speed.
  bound_cpu_ = sched_setaffinity(pid_, sizeof(set), &set) == 0 ? cpu : -1;
}

void StubProcess::Unbind() {
  if (bound_cpu_ < 0) return;
  // The CPUs the sentry itself may use (the sandbox cgroup's cpuset).
  static const cpu_set_t allowed = [] {
    cpu_set_t s;
    if (sched_getaffinity(0, sizeof(s), &s) != 0) {
      CPU_ZERO(&s);
      for (int i = 0; i < CPU_SETSIZE; ++i) CPU_SET(i, &s);
    }
    return s;
  }();
  (void)sched_setaffinity(pid_, sizeof(allowed), &allowed);
  bound_cpu_ = -1;
}

ErrnoOr<int> StubProcess::ResumeAndWait(int request) {
  if (!alive_) return Errno(ESRCH);
  BindToCallerCpu();
  if (ptrace(static_cast<__ptrace_request>(request), pid_, 0, 0) != 0 && errno != ESRCH) {
    return Errno::FromHost();
  }
  // On ESRCH the stub is no longer stopped: it is being killed, and the
  // wait collects its exit.
  return Wait();
}

ErrnoOr<int> StubProcess::Wait() {
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, __WALL);
    if (r == pid_) {
      if (WIFEXITED(status) || WIFSIGNALED(status)) alive_ = false;
      return status;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == ECHILD) alive_ = false;  // reaped elsewhere (a bug)
    return Errno::FromHost();
  }
}

Errno StubProcess::GetRegs(Registers& regs) const {
  return ptrace(PTRACE_GETREGS, pid_, 0, &regs) == 0 ? Errno::Ok() : Errno::FromHost();
}
Errno StubProcess::SetRegs(const Registers& regs) const {
  return ptrace(PTRACE_SETREGS, pid_, 0, &regs) == 0 ? Errno::Ok() : Errno::FromHost();
}
Errno StubProcess::GetSigInfo(siginfo_t& info) const {
  return ptrace(PTRACE_GETSIGINFO, pid_, 0, &info) == 0 ? Errno::Ok() : Errno::FromHost();
}
Errno StubProcess::GetFpRegs(FpState& fp) const {
  return ptrace(PTRACE_GETFPREGS, pid_, 0, &fp) == 0 ? Errno::Ok() : Errno::FromHost();
}
Errno StubProcess::SetFpRegs(const FpState& fp) const {
  return ptrace(PTRACE_SETFPREGS, pid_, 0, &fp) == 0 ? Errno::Ok() : Errno::FromHost();
}

Errno StubProcess::Detach(const Registers& regs) {
  if (!alive_) return Errno(ESRCH);
  if (!attached_) return Errno::Ok();
  PAL_TRY_ERRNO(SetRegs(regs));
  if (ptrace(PTRACE_DETACH, pid_, 0, 0) != 0) return Errno::FromHost();
  attached_ = false;
  Unbind();  // untraced, it must not share a CPU with a spinning sentry
  return Errno::Ok();
}

bool StubProcess::PollAlive() {
  if (!alive_) return false;
  if (!attached_) {
    // Not our tracee and not our child: only the pidfd can tell.
    if (Exited()) alive_ = false;
    return alive_;
  }
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG | __WALL);
  if (r == pid_ && (WIFEXITED(status) || WIFSIGNALED(status))) alive_ = false;
  if (r < 0 && errno == ECHILD) alive_ = false;
  return alive_;
}

ErrnoOr<UniqueFd> StubProcess::CopyFd(int fd) const {
  UniqueFd copy(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd_.get(), fd, 0)));
  if (!copy.ok()) return Errno::FromHost();
  return copy;
}

bool StubProcess::Exited() const {
  pollfd p{pidfd_.get(), POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

bool StubProcess::ThreadExists() const {
  if (Exited()) return false;
  // tgkill checks that the thread belongs to the process.
  return !is_thread() || syscall(SYS_tgkill, tgid_, pid_, 0) == 0;
}

void StubProcess::Kick() const {
  if (!is_thread()) {
    // SAFETY: a pidfd names this process only, so a kick racing with the
    // stub's death cannot signal an unrelated process that reused the pid.
    syscall(SYS_pidfd_send_signal, pidfd_.get(), kKickSignal, nullptr, 0);
    return;
  }
  // A thread has no pidfd on this kernel generation: tgkill checks the
  // thread is in the process, and the pidfd that the process is still the
  // one we made (its pid cannot be reused before it is reaped, which
  // happens only after it has exited).
  if (Exited()) return;
  syscall(SYS_tgkill, tgid_, pid_, kKickSignal);
}

ErrnoOr<int64_t> StubProcess::CpuTimeNs() const {
  // The stub is a process of its own, so its process CPU clock (readable
  // for any process, unlike another process's thread clocks) is the app
  // thread's: MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED).
  const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(pid_) << 3) | 2);
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) return Errno::FromHost();
  // Exited (or reaped, and the pid perhaps reused) since: the reading may
  // not be the stub's.
  struct pollfd pfd = {pidfd_.get(), POLLIN, 0};
  if (poll(&pfd, 1, 0) != 0) return Errno(ESRCH);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void StubProcess::SendKill() const {
  syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

void StubProcess::Abandon() {
  if (!alive_) return;
  if (attached_) return Kill();
  SendKill();
  alive_ = false;
}

void StubProcess::Kill() {
  if (!alive_) return;
  // The pidfd, not the pid: an untraced stub is reaped by the factory, so
  // its pid may be reused as soon as it has died.
  SendKill();
  if (attached_) {
    // Our tracee: its exit is ours to collect.
    while (alive_) {
      if (!Wait().ok()) break;
    }
  } else {
    // Untraced: the pidfd turns readable once it has exited.
    pollfd p{pidfd_.get(), POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
  }
  alive_ = false;
}

}  // namespace palisade::platform
