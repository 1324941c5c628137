#include "platform/ptrace/factory_filter.h"

#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "platform/ptrace/stub_process.h"
#include "platform/stub/systrap_abi.h"

namespace palisade::platform {
namespace {

struct ArgTest {
  unsigned arg;
  scmp_compare op;
  uint64_t a, b;
};
struct Rule {
  int nr;
  std::vector<ArgTest> args;  // all must hold; empty: any arguments
  const char* why;
};

std::vector<Rule> Rules() {
  const uint64_t mem_fd = StubProcess::kMemFd;
  const uint64_t shared_fd = StubProcess::kSharedFd;
  return {
      // The factory.
      {SYS_recvmsg, {}, "requests (with the fds a stub gets)"},
      {SYS_sendmsg, {}, "replies (with the stub's pidfd)"},
      {SYS_clone, {{0, SCMP_CMP_EQ, SIGCHLD, 0}}, "fork a stub; nothing shared, no namespaces"},
      {SYS_pipe2, {}, "per-request set-up report from the child"},
      {SYS_read, {}, "the set-up report"},
      {SYS_write, {}, "a failing child reports its step"},
      {SYS_pidfd_open, {}, "a pidfd of the new stub for the sentry"},
      {SYS_kill, {{1, SCMP_CMP_EQ, SIGKILL, 0}}, "a stub whose pidfd could not be made"},
      {SYS_close, {}, "fds (also injected into systrap stubs)"},
      {SYS_exit_group, {}, "exit"},
      {SYS_exit, {}, "exit"},
      {SYS_restart_syscall, {}, "an interrupted pause"},
      // A stub being born.
      {SYS_rt_sigprocmask, {}, "block everything until traced; systrap stub mask"},
      {SYS_prctl, {{0, SCMP_CMP_EQ, PR_SET_PDEATHSIG, 0}}, "stub dies with the factory"},
      {SYS_prctl, {{0, SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS, 0}}, "before a stub's own filter"},
      {SYS_fcntl, {{1, SCMP_CMP_EQ, F_DUPFD, 0}}, "move fds out of the way"},
      {SYS_dup2, {}, "fds to kMemFd/kSharedFd"},
      {SYS_close_range, {}, "close everything else"},
      {SYS_pause, {}, "wait to be seized"},
      // Injected by the sentry, or run by the stub page.
      {SYS_rseq, {}, "unregister the inherited rseq area"},
      {SYS_seccomp, {{0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0}}, "the stub's own filter"},
      {SYS_mmap, {{4, SCMP_CMP_EQ, mem_fd, 0}}, "app memory: MemoryFile ranges"},
      {SYS_mmap, {{4, SCMP_CMP_EQ, shared_fd, 0}}, "the systrap shared region"},
      {SYS_munmap, {}, "unmap_all, mapping sync"},
      {SYS_rt_sigaction, {}, "systrap handlers"},
      {SYS_sigaltstack, {}, "systrap signal stack"},
      {SYS_futex, {}, "systrap hand-off (pinned further by the stub filter)"},
      {SYS_arch_prctl, {{0, SCMP_CMP_EQ, ARCH_GET_FS, 0}}, "systrap fs/gs"},
      {SYS_arch_prctl, {{0, SCMP_CMP_EQ, ARCH_SET_FS, 0}}, "systrap fs/gs"},
      {SYS_arch_prctl, {{0, SCMP_CMP_EQ, ARCH_GET_GS, 0}}, "systrap fs/gs"},
      {SYS_arch_prctl, {{0, SCMP_CMP_EQ, ARCH_SET_GS, 0}}, "systrap fs/gs"},
      {SYS_rt_sigreturn, {}, "systrap return into the app"},
      {SYS_clone, {{0, SCMP_CMP_EQ, PALISADE_SYSTRAP_CLONE_FLAGS, 0}},
       "systrap spawner: a host thread per app thread (pinned to the stub page by the stub filter)"},
      {SYS_getpid, {}, "harmless; platform tests inject it"},
  };
}

}  // namespace

absl::StatusOr<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx) {
  UniqueFd fd(memfd_create("palisade-bpf", MFD_CLOEXEC));
  if (!fd.ok()) return ErrnoStatus(errno, "memfd_create");
  if (int r = seccomp_export_bpf(ctx, fd.get()); r != 0) {
    return ErrnoStatus(-r, "seccomp_export_bpf");
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "fstat");
  if (st.st_size == 0 || st.st_size % sizeof(sock_filter) != 0) {
    return absl::InternalError("libseccomp exported a malformed program");
  }
  std::vector<sock_filter> prog(st.st_size / sizeof(sock_filter));
  if (pread(fd.get(), prog.data(), st.st_size, 0) != st.st_size) {
    return ErrnoStatus(errno, "read exported BPF");
  }
  return prog;
}

absl::StatusOr<std::vector<sock_filter>> BuildFactoryFilter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  struct Release {
    scmp_filter_ctx c;
    ~Release() { seccomp_release(c); }
  } release{ctx};
  // The factory loads it with a raw seccomp(2) after setting NNP itself.
  if (int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); r != 0) {
    return ErrnoStatus(-r, "seccomp_attr_set(CTL_NNP)");
  }
  // int $0x80 and x32 calls from app code must trap too (systrap), not kill.
  if (int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP); r != 0) {
    return ErrnoStatus(-r, "seccomp_attr_set(ACT_BADARCH)");
  }
  for (const Rule& rule : Rules()) {
    scmp_arg_cmp cmps[6];
    unsigned n = 0;
    for (const ArgTest& t : rule.args) cmps[n++] = scmp_arg_cmp{t.arg, t.op, t.a, t.b};
    if (int r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, rule.nr, n, cmps); r != 0) {
      return ErrnoStatus(-r, "seccomp_rule_add (factory)", std::to_string(rule.nr));
    }
  }
  return ExportBpf(ctx);
}

}  // namespace palisade::platform
