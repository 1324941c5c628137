#include "platform/ptrace/stub_factory.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "platform/ptrace/factory_filter.h"
#include "platform/ptrace/stub_page.h"
#include "platform/ptrace/stub_process.h"
#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

constexpr uint32_t kOpCreateStub = 1;

struct Request {
  uint32_t op;
  uint32_t nfds;  // 1: memfd; 2: memfd and the shared fd
};

struct Reply {
  int32_t err;   // 0, or the errno of the failed step
  int32_t step;  // ChildStep (0: the factory's own step)
  int32_t pid;   // on success; the pidfd comes as SCM_RIGHTS
  int32_t pad;
};

// Set-up steps of a stub being born, reported when one fails (the child
// cannot log).
enum ChildStep : int32_t {
  kStepFork = 1,
  kStepPdeathsig,
  kStepDup,
  kStepCloseRange,
  kStepPidfd,
};

const char* StepName(int32_t step) {
  switch (step) {
    case kStepFork: return "fork";
    case kStepPdeathsig: return "prctl(PR_SET_PDEATHSIG)";
    case kStepDup: return "moving fds";
    case kStepCloseRange: return "close_range";
    case kStepPidfd: return "pidfd_open";
    default: return "unknown step";
  }
}

// Fixed fd numbers inside the factory and a newborn stub.
constexpr int kFactorySock = 3;
constexpr int kReportFd = StubProcess::kSharedFd + 1;  // 102, closed last

long Sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  return syscall(nr, a, b, c, d, e);
}

// The newborn stub. SAFETY: raw syscalls only (forked from the factory,
// itself forked from a possibly multi-threaded sentry).
[[noreturn]] void StubChild(int memfd, int shared_fd, int report) {
  auto fail = [report](int32_t step) {
    const int32_t code[2] = {step, static_cast<int32_t>(errno)};
    Sys(SYS_write, report, reinterpret_cast<long>(code), sizeof(code));
    Sys(SYS_exit_group, 1);
    __builtin_unreachable();
  };
  // Every signal is blocked already (inherited from the factory).
  // Die with the factory until the sentry has seized us (from then on
  // PTRACE_O_EXITKILL ties us to the tracer).
  if (Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL) != 0) fail(kStepPdeathsig);
  // Out of the way of the target numbers first, then into place.
  const int hi = kReportFd + 1;
  memfd = static_cast<int>(Sys(SYS_fcntl, memfd, F_DUPFD, hi));
  if (memfd < 0) fail(kStepDup);
  if (shared_fd >= 0) {
    shared_fd = static_cast<int>(Sys(SYS_fcntl, shared_fd, F_DUPFD, hi));
    if (shared_fd < 0) fail(kStepDup);
  }
  const int rep = static_cast<int>(Sys(SYS_fcntl, report, F_DUPFD, hi));
  if (rep < 0) fail(kStepDup);
  report = rep;
  if (Sys(SYS_dup2, memfd, StubProcess::kMemFd) < 0) fail(kStepDup);
  if (shared_fd >= 0 && Sys(SYS_dup2, shared_fd, StubProcess::kSharedFd) < 0) fail(kStepDup);
  if (Sys(SYS_dup2, report, kReportFd) < 0) fail(kStepDup);
  report = kReportFd;
  // Only kMemFd (and kSharedFd) stay: no factory socket, no pipe end of
  // another request.
  if (Sys(SYS_close_range, 0, StubProcess::kMemFd - 1, 0) != 0 ||
      (shared_fd < 0 &&
       Sys(SYS_close_range, StubProcess::kSharedFd, StubProcess::kSharedFd, 0) != 0) ||
      Sys(SYS_close_range, kReportFd + 1, ~0U, 0) != 0) {
    fail(kStepCloseRange);
  }
  // Closing the report pipe tells the factory we are ready.
  Sys(SYS_close, kReportFd);
  for (;;) Sys(SYS_pause);
}

// Receives one request: its fds (memfd, optional shared fd). Returns the
// number of bytes (0: the sentry closed its end).
long ReceiveRequest(Request& req, int fds[2]) {
  fds[0] = fds[1] = -1;
  iovec iov{&req, sizeof(req)};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  long n;
  do {
    n = Sys(SYS_recvmsg, kFactorySock, reinterpret_cast<long>(&msg), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return n;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c != nullptr && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && i < 2; ++i) {
      std::memcpy(&fds[i], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
  }
  return n;
}

void SendReply(const Reply& rep, int pidfd) {
  iovec iov{const_cast<Reply*>(&rep), sizeof(rep)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (pidfd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
  }
  while (Sys(SYS_sendmsg, kFactorySock, reinterpret_cast<long>(&msg), MSG_NOSIGNAL) < 0 &&
         errno == EINTR) {
  }
}

Reply CreateOne(const Request& req, int fds[2], int& pidfd) {
  Reply rep{};
  pidfd = -1;
  if (req.op != kOpCreateStub || fds[0] < 0 || (req.nfds == 2) != (fds[1] >= 0)) {
    rep.err = EINVAL;
    return rep;
  }
  int pipefd[2];
  if (Sys(SYS_pipe2, reinterpret_cast<long>(pipefd), O_CLOEXEC) != 0) {
    rep.err = errno;
    return rep;
  }
  const long pid = Sys(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) StubChild(fds[0], fds[1], pipefd[1]);
  const int fork_err = errno;
  Sys(SYS_close, pipefd[1]);
  if (pid < 0) {
    Sys(SYS_close, pipefd[0]);
    rep.err = fork_err;
    rep.step = kStepFork;
    return rep;
  }
  // EOF: the child closed everything and waits; a report: it failed.
  int32_t code[2] = {0, 0};
  long n;
  do {
    n = Sys(SYS_read, pipefd[0], reinterpret_cast<long>(code), sizeof(code));
  } while (n < 0 && errno == EINTR);
  Sys(SYS_close, pipefd[0]);
  if (n != 0) {
    rep.step = n == sizeof(code) ? code[0] : kStepFork;
    rep.err = n == sizeof(code) ? code[1] : EIO;
    return rep;  // the child exits; SIGCHLD is ignored, so it is reaped
  }
  pidfd = static_cast<int>(Sys(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    rep.err = errno;
    rep.step = kStepPidfd;
    Sys(SYS_kill, pid, SIGKILL);
    return rep;
  }
  rep.pid = static_cast<int32_t>(pid);
  return rep;
}

// The factory. SAFETY: forked from a possibly multi-threaded process: raw
// syscalls only, no allocation, no logging, no return.
[[noreturn]] void FactoryMain(int sock, const sock_fprog* filter) {
  uint64_t all = ~uint64_t{0};
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all), 0, sizeof(all));
  // The sentry's handlers are meaningless here; stubs start from defaults.
  // SIGCHLD ignored: stubs that exit are reaped by the kernel (after their
  // tracer, if any, has collected the exit).
  struct KernelSigaction {
    uint64_t handler, flags, restorer, mask;
  };
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction sa{reinterpret_cast<uint64_t>(sig == SIGCHLD ? SIG_IGN : SIG_DFL), 0, 0, 0};
    Sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&sa), 0, 8);
  }
  if (sock != kFactorySock) {
    if (Sys(SYS_dup2, sock, kFactorySock) != kFactorySock) Sys(SYS_exit_group, 2);
  }
  Sys(SYS_close_range, 0, kFactorySock - 1, 0);
  Sys(SYS_close_range, kFactorySock + 1, ~0U, 0);
  if (Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Sys(SYS_exit_group, 3);
  if (Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, reinterpret_cast<long>(filter)) != 0) {
    Sys(SYS_exit_group, 4);
  }
  for (;;) {
    Request req{};
    int fds[2];
    const long n = ReceiveRequest(req, fds);
    if (n == 0) Sys(SYS_exit_group, 0);  // the sentry is gone
    if (n < 0) Sys(SYS_exit_group, 5);
    int pidfd = -1;
    Reply rep{.err = EINVAL, .step = 0, .pid = 0, .pad = 0};
    if (n == sizeof(req)) rep = CreateOne(req, fds, pidfd);
    for (int fd : fds) {
      if (fd >= 0) Sys(SYS_close, fd);
    }
    SendReply(rep, pidfd);
    if (pidfd >= 0) Sys(SYS_close, pidfd);
  }
}

std::mutex factory_mu;
StubFactory* factory_singleton = nullptr;  // guarded by factory_mu; never freed

}  // namespace

absl::Status StubFactory::Start() { return Get().status(); }

absl::StatusOr<StubFactory*> StubFactory::Get() {
  std::lock_guard<std::mutex> l(factory_mu);
  if (factory_singleton != nullptr) return factory_singleton;
  // Stubs run the stub page: it must be in the factory's image.
  PAL_ASSIGN_OR_RETURN(const StubPage* page, StubPage::Get());
  (void)page;
  PAL_ASSIGN_OR_RETURN(std::vector<sock_filter> filter, BuildFactoryFilter());
  const sock_fprog prog{static_cast<unsigned short>(filter.size()), filter.data()};
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoStatus(errno, "socketpair for the stub factory");
  }
  UniqueFd mine(sv[0]);
  UniqueFd theirs(sv[1]);
  const long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return ErrnoStatus(errno, "fork the stub factory");
  if (pid == 0) FactoryMain(theirs.get(), &prog);
  theirs.reset();
  factory_singleton = new StubFactory(static_cast<pid_t>(pid), std::move(mine));
  spdlog::debug("platform: stub factory {} started", pid);
  return factory_singleton;
}

absl::StatusOr<StubFactory::NewStub> StubFactory::Create(int memfd, int shared_fd) {
  if (memfd < 0) return absl::InvalidArgumentError("stub factory: no MemoryFile fd");
  Request req{kOpCreateStub, shared_fd >= 0 ? 2u : 1u};
  const int fds[2] = {memfd, shared_fd};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  iovec iov{&req, sizeof(req)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(req.nfds * sizeof(int));
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(req.nfds * sizeof(int));
  std::memcpy(CMSG_DATA(c), fds, req.nfds * sizeof(int));

  Reply rep{};
  alignas(cmsghdr) char rcontrol[CMSG_SPACE(sizeof(int))] = {};
  iovec riov{&rep, sizeof(rep)};
  msghdr rmsg{};
  rmsg.msg_iov = &riov;
  rmsg.msg_iovlen = 1;
  rmsg.msg_control = rcontrol;
  rmsg.msg_controllen = sizeof(rcontrol);
  ssize_t n;
  {
    std::lock_guard<std::mutex> l(mu_);
    do {
      n = sendmsg(sock_.get(), &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != sizeof(req)) {
      return ErrnoStatus(n < 0 ? errno : EIO, "stub factory: send request (factory dead?)");
    }
    do {
      n = recvmsg(sock_.get(), &rmsg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
  }
  UniqueFd pidfd;
  if (cmsghdr* rc = CMSG_FIRSTHDR(&rmsg);
      rc != nullptr && rc->cmsg_level == SOL_SOCKET && rc->cmsg_type == SCM_RIGHTS) {
    int fd;
    std::memcpy(&fd, CMSG_DATA(rc), sizeof(fd));
    pidfd.reset(fd);
  }
  if (n < 0) return ErrnoStatus(errno, "stub factory: receive reply");
  if (n != sizeof(rep)) return absl::InternalError("stub factory died (no reply)");
  if (rep.err != 0) {
    return ErrnoStatus(rep.err, absl::StrFormat("stub factory: %s", StepName(rep.step)));
  }
  if (!pidfd.ok() || rep.pid <= 0) return absl::InternalError("stub factory: reply without a pidfd");
  return NewStub{rep.pid, std::move(pidfd)};
}

}  // namespace palisade::platform
