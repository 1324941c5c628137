// The systrap platform's security claims, tested on real stubs: application
// code runs untraced, so the stub's seccomp filter is all that stands
// between it and the host kernel. An app that jumps into the stub page
// (whose syscalls the filter lets through) must get nothing useful; it
// must not be able to write the stub code; each thread's shared region
// is its own.
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "platform/ptrace/stub_page.h"
#include "platform/stub/stub_x86_64.h"
#include "platform/stub/systrap_abi.h"
#include "platform/systrap/context.h"
#include "tests/unit/platform/ptrace_test_util.h"

namespace palisade::platform::testing {
namespace {

class SystrapSecurityTest : public PtraceTest {
 protected:
  std::string PlatformName() const override { return "systrap"; }
  void SetUp() override {
    PtraceTest::SetUp();
    if (HasFatalFailure()) return;
    auto c = platform_->NewContext();
    ASSERT_TRUE(c.ok()) << c.status();
    ctx_ = std::move(*c);
    auto page = StubPage::Get();
    ASSERT_TRUE(page.ok());
    syscall_insn_ = (*page)->syscall_insn();  // `syscall; int3` in the stub page
  }

  // Runs host syscall nr(args) from the stub page's own syscall
  // instruction, reached by a jump from app code.
  Event RawSyscallFromStubPage(Registers& regs, uint64_t nr, std::vector<uint64_t> args) {
    regs = Regs(prog_jump_r15);
    regs.r15 = syscall_insn_;
    regs.rax = nr;
    decltype(regs.rdi)* slots[] = {&regs.rdi, &regs.rsi, &regs.rdx, &regs.r10, &regs.r8, &regs.r9};
    for (size_t i = 0; i < args.size(); ++i) *slots[i] = args[i];
    return ctx_->Switch(*as_, regs);
  }

  std::vector<std::string> Maps() {
    std::ifstream in("/proc/" + std::to_string(StubPidOf(*ctx_, *as_)) + "/maps");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
  bool Mapped(const std::string& prefix) {
    for (const std::string& l : Maps()) {
      if (l.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  std::unique_ptr<Context> ctx_;
  uint64_t syscall_insn_ = 0;
};

TEST_F(SystrapSecurityTest, AppSyscallsTrapAndNeverReachTheHost) {
  // exit(7) by the app: a host exit would kill the stub; trapped, the
  // sentry just sees it.
  Registers regs = Regs(prog_load);
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ | PROT_WRITE).ok());
  FileWord(kDataOffset) = 7;
  regs.rdx = kData;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_exit);
  EXPECT_EQ(regs.rdi, 7u);
  EXPECT_EQ(kill(StubPidOf(*ctx_, *as_), 0), 0);  // still alive
}

TEST_F(SystrapSecurityTest, JumpIntoStubCannotMapTheMemoryFile) {
  // The stub page's mmap of the MemoryFile goes to the sentry first
  // (SECCOMP_RET_USER_NOTIF), which refuses one it did not ask for: ENOSYS.
  Registers regs;
  Event ev = RawSyscallFromStubPage(
      regs, SYS_mmap,
      {kData, kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, 100 /* kMemFd */, 0});
  ASSERT_EQ(ev.kind, EventKind::kSignal);  // the int3 after the syscall
  EXPECT_EQ(ev.info.si_signo, SIGTRAP);
  EXPECT_EQ(static_cast<int64_t>(regs.rax), -ENOSYS);
  EXPECT_FALSE(Mapped("00500000-"));
}

TEST_F(SystrapSecurityTest, AppCannotWriteTheSyncTable) {
  // The mapping-sync table is in the control page, read-only in the stub.
  // (The sentry checks every call against its own list anyway: see
  // JumpIntoStubCannotMapTheMemoryFile.)
  Registers regs = Regs(prog_forge_memops);
  regs.rdx = PALISADE_SYSTRAP_CONTROL_ADDR;
  regs.rsi = kData;
  regs.r15 = syscall_insn_;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kFault);
  EXPECT_EQ(ev.fault_addr, static_cast<uint64_t>(PALISADE_SYSTRAP_CONTROL_ADDR));
  EXPECT_EQ(ev.fault_code, SEGV_ACCERR);
}

TEST_F(SystrapSecurityTest, JumpIntoStubMmapOfAQueuedCallIsStillRefused) {
  // Even a call the sentry did queue for a sync (the code page, mapped at
  // the first Switch) is refused outside a sync: the sentry lets calls
  // through only during one, from the thread it asked.
  Registers regs = Regs(prog_roundtrip);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  Event ev = RawSyscallFromStubPage(
      regs, SYS_mmap,
      {kData, kPage, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, 100 /* kMemFd */, 0});
  ASSERT_EQ(ev.kind, EventKind::kSignal);
  EXPECT_EQ(static_cast<int64_t>(regs.rax), -ENOSYS);
  EXPECT_FALSE(Mapped("00500000-"));
}

TEST_F(SystrapSecurityTest, JumpIntoStubCannotUnmapTheStubOrRegion) {
  Registers regs;
  Event ev = RawSyscallFromStubPage(regs, SYS_munmap, {StubPage::kAddress, 0x20000});
  ASSERT_EQ(ev.kind, EventKind::kSignal);
  EXPECT_EQ(static_cast<int64_t>(regs.rax), -ENOSYS);
  EXPECT_TRUE(Mapped("7d0000000000-7d0000001000 r-xp"));
  EXPECT_TRUE(Mapped("7d0000010000-7d0000020000 r--s"));
  EXPECT_TRUE(Mapped("7d0000020000-7d0004020000 rw-s"));
  // And the filter still traps the app's own syscalls.
  regs = Regs(prog_roundtrip);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_getpid);
}

TEST_F(SystrapSecurityTest, JumpIntoStubWithAnyOtherSyscallKillsTheStub) {
  // mprotect (to make the stub page writable), mremap, execve, getpid:
  // none is in the stub page's rules, so the kernel kills the stub; the
  // sentry sees the thread die and survives.
  const struct {
    uint64_t nr;
    std::vector<uint64_t> args;
  } calls[] = {
      {SYS_mprotect, {StubPage::kAddress, kPage, PROT_READ | PROT_WRITE | PROT_EXEC}},
      {SYS_mremap, {StubPage::kAddress, kPage, kPage, MREMAP_MAYMOVE | MREMAP_FIXED, kData}},
      {SYS_munmap + 1000, {}},  // not a syscall at all
      {SYS_getpid, {}},
      {SYS_futex, {kData, 0 /* FUTEX_WAIT */, 0, 0}},  // futex on app memory
  };
  for (const auto& c : calls) {
    SCOPED_TRACE(c.nr);
    auto fresh = platform_->NewContext();
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    ctx_ = std::move(*fresh);
    as_ = platform_->NewAddressSpace();  // a process of its own
    ASSERT_TRUE(MapStandard(*as_));
    const pid_t pid = StubPidOf(*ctx_, *as_);
    Registers regs;
    EXPECT_EQ(RawSyscallFromStubPage(regs, c.nr, c.args).kind, EventKind::kDied);
    EXPECT_EQ(kill(pid, 0), -1);  // reaped
  }
}

TEST_F(SystrapSecurityTest, AppCannotWriteTheStubCode) {
  Registers regs = Regs(prog_store_then_load);
  regs.rdx = StubPage::kAddress;
  regs.rsi = 0xcc;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kFault);
  EXPECT_EQ(ev.fault_addr, StubPage::kAddress);
  EXPECT_EQ(ev.fault_code, SEGV_ACCERR);
}

TEST_F(SystrapSecurityTest, ThreadsOfOneAddressSpaceShareOneProcess) {
  // Two threads of one address space: host threads of one stub process,
  // each with a region of its own in the one regions mapping.
  auto other = platform_->NewContext();
  ASSERT_TRUE(other.ok()) << other.status();
  auto& a = dynamic_cast<SystrapContext&>(*ctx_);
  auto& b = dynamic_cast<SystrapContext&>(**other);
  ASSERT_EQ(StubPidOf(a, *as_), StubPidOf(b, *as_));
  EXPECT_NE(a.stub_tid(), b.stub_tid());
  EXPECT_NE(a.stub_tid(), a.stub_pid());  // the process's first thread is the spawner
  int regions = 0;
  for (const std::string& l : Maps()) regions += l.find("palisade-systrap") != std::string::npos;
  EXPECT_EQ(regions, 2);  // the control page and the regions
  // A bogus frame pointer written into the other thread's header (slot 2)
  // does not reach the sentry: the handler writes the real one on each
  // report, and the sentry checks it.
  Registers regs = Regs(prog_roundtrip);
  ASSERT_EQ(b.Switch(*as_, regs).kind, EventKind::kSyscall);
  regs = Regs(prog_store_then_load);
  regs.rdx = PALISADE_SYSTRAP_SLOTS_ADDR + 2 * PALISADE_SYSTRAP_SHARED_SIZE + PALISADE_SYSTRAP_FRAME_RSP;
  regs.rsi = 0x1234;
  ASSERT_EQ(a.Switch(*as_, regs).kind, EventKind::kSyscall);
  Registers r2 = Regs(prog_roundtrip);
  ASSERT_EQ(b.Switch(*as_, r2).kind, EventKind::kSyscall);
  EXPECT_EQ(r2.orig_rax, SYS_getpid);
}

TEST_F(SystrapSecurityTest, TamperedSpawnRequestMakesNoThreadOutsideTheRegions) {
  // The spawner's request lives in memory app threads can write. A request
  // for a region outside the slots (here: the control page, then app
  // memory) is refused by the stub code itself.
  Registers regs = Regs(prog_roundtrip);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  const pid_t pid = StubPidOf(*ctx_, *as_);
  for (uint64_t target : {uint64_t{PALISADE_SYSTRAP_CONTROL_ADDR}, uint64_t{kData}}) {
    regs = Regs(prog_store_then_load);
    regs.rdx = PALISADE_SYSTRAP_SLOTS_ADDR + PALISADE_SYSTRAP_SPAWN_REGION;  // slot 0: the spawner
    regs.rsi = target;
    ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  }
  // A new thread still gets a proper region (the sentry writes the
  // request anew), and the process has exactly the threads it should.
  auto other = platform_->NewContext();
  ASSERT_TRUE(other.ok());
  Registers r2 = Regs(prog_roundtrip);
  ASSERT_EQ((*other)->Switch(*as_, r2).kind, EventKind::kSyscall);
  int threads = 0;
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str())) {
    while (dirent* e = readdir(d)) threads += e->d_name[0] != '.';
    closedir(d);
  }
  EXPECT_EQ(threads, 3);  // spawner + two app threads
}

}  // namespace
}  // namespace palisade::platform::testing
