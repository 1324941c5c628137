#include "platform/systrap/stub_filter.h"

#include <linux/futex.h>
#include <linux/seccomp.h>
#include <asm/prctl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "platform/ptrace/stub_page.h"
#include "platform/ptrace/stub_process.h"
#include "platform/stub/systrap_abi.h"

namespace palisade::platform {
namespace {

constexpr uint32_t kIpLow = offsetof(seccomp_data, instruction_pointer);
constexpr uint32_t kIpHigh = kIpLow + 4;  // little endian
constexpr uint32_t kPageHigh = StubPage::kAddress >> 32;
constexpr uint32_t kPageLow = static_cast<uint32_t>(StubPage::kAddress);
static_assert((StubPage::kAddress + StubPage::kSize - 1) >> 32 == kPageHigh,
              "the filter assumes the stub page does not cross a 4 GiB boundary");

// The instruction-pointer test: not from the stub page -> SECCOMP_RET_TRAP;
// from it -> on to libseccomp's program, which follows this prefix.
// libseccomp has no way to look at seccomp_data.instruction_pointer, hence
// raw BPF for exactly this part and nothing else.
const sock_filter kIpPrefix[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpHigh),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kPageHigh, 0, 4),                 // -> trap
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLow),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kPageLow, 0, 2),                  // -> trap
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kPageLow + StubPage::kSize, 1, 0),  // -> trap
    BPF_STMT(BPF_JMP | BPF_JA | BPF_K, 1),                                // -> stub rules
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
};

// The stub page's rules, as data. An argument test of kAny is skipped.
struct ArgTest {
  int arg;
  scmp_compare op;
  uint64_t a, b;
};
struct StubRule {
  int nr;
  uint32_t action;
  std::vector<ArgTest> args;
};

constexpr uint64_t kWindowMask = ~uint64_t{PALISADE_SYSTRAP_WINDOW_SIZE - 1};
static_assert((PALISADE_SYSTRAP_WINDOW_ADDR & (PALISADE_SYSTRAP_WINDOW_SIZE - 1)) == 0);
static_assert(PALISADE_SYSTRAP_SLOTS_END <= PALISADE_SYSTRAP_WINDOW_ADDR + PALISADE_SYSTRAP_WINDOW_SIZE);

std::vector<StubRule> StubRules(bool allow_arch_prctl) {
  const uint64_t window = PALISADE_SYSTRAP_WINDOW_ADDR;
  std::vector<StubRule> rules = {
      // Return into the app (and the stub's only way out of a handler).
      {SYS_rt_sigreturn, SCMP_ACT_ALLOW, {}},
      // Wait/wake on the stub's own shared memory only (futexes of the
      // app's memory would be harmless, but nothing needs them).
      {SYS_futex, SCMP_ACT_ALLOW,
       {{0, SCMP_CMP_MASKED_EQ, kWindowMask, window}, {1, SCMP_CMP_EQ, FUTEX_WAIT, 0}}},
      {SYS_futex, SCMP_ACT_ALLOW,
       {{0, SCMP_CMP_MASKED_EQ, kWindowMask, window}, {1, SCMP_CMP_EQ, FUTEX_WAKE, 0}}},
      // The spawner makes each application thread's host thread. Only a
      // thread of this very process (same memory, files, filter): app code
      // jumping here gains a thread that can do no more than it can.
      {SYS_clone, SCMP_ACT_ALLOW, {{0, SCMP_CMP_EQ, PALISADE_SYSTRAP_CLONE_FLAGS, 0}}},
      // A thread whose application thread is gone ends itself.
      {SYS_exit, SCMP_ACT_ALLOW, {}},
      // Mapping sync: each call is put to the sentry (user notification),
      // which lets it run only if it is the next one it expects from the
      // thread it asked to sync (systrap_process.h).
      {SYS_mmap, SCMP_ACT_NOTIFY,
       {{3, SCMP_CMP_EQ, MAP_SHARED | MAP_FIXED, 0},
        {4, SCMP_CMP_EQ, static_cast<uint64_t>(StubProcess::kMemFd), 0}}},
      {SYS_munmap, SCMP_ACT_NOTIFY, {}},
  };
  if (allow_arch_prctl) {
    // fs/gs bases are not in the signal frame.
    for (uint64_t code : {ARCH_GET_FS, ARCH_SET_FS, ARCH_GET_GS, ARCH_SET_GS}) {
      rules.push_back({SYS_arch_prctl, SCMP_ACT_ALLOW, {{0, SCMP_CMP_EQ, code, 0}}});
    }
  }
  return rules;
}

absl::StatusOr<std::vector<sock_filter>> ExportStubRules(bool allow_arch_prctl) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  struct Release {
    scmp_filter_ctx c;
    ~Release() { seccomp_release(c); }
  } release{ctx};
  // The filter is loaded by the stub (injected seccomp(2)), not by us.
  if (int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); r != 0) {
    return ErrnoStatus(-r, "seccomp_attr_set(CTL_NNP)");
  }
  for (const StubRule& rule : StubRules(allow_arch_prctl)) {
    scmp_arg_cmp cmps[6];
    unsigned n = 0;
    for (const ArgTest& t : rule.args) {
      cmps[n++] = scmp_arg_cmp{static_cast<unsigned>(t.arg), t.op, t.a, t.b};
    }
    if (int r = seccomp_rule_add_array(ctx, rule.action, rule.nr, n, cmps); r != 0) {
      return ErrnoStatus(-r, "seccomp_rule_add", std::to_string(rule.nr));
    }
  }
  UniqueFd fd(memfd_create("palisade-systrap-bpf", MFD_CLOEXEC));
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

}  // namespace

absl::StatusOr<std::vector<sock_filter>> BuildSystrapFilter(bool allow_arch_prctl) {
  PAL_ASSIGN_OR_RETURN(std::vector<sock_filter> rules, ExportStubRules(allow_arch_prctl));
  std::vector<sock_filter> prog(std::begin(kIpPrefix), std::end(kIpPrefix));
  // libseccomp's jumps are relative, so the program works unchanged after
  // the prefix.
  prog.insert(prog.end(), rules.begin(), rules.end());
  if (prog.size() > BPF_MAXINSNS) return absl::InternalError("systrap filter too long");
  return prog;
}

}  // namespace palisade::platform
