// Switch() events on every platform (ptrace and systrap run the same
// tests): syscalls and their results, synchronous signals, Interrupt(), a
// stub killed from outside, rejected registers, FP state, and stub
// clean-up. systrap_security_test.cc has the systrap filter's own tests.
#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "platform/ptrace/context.h"
#include "platform/systrap/context.h"
#include "tests/unit/platform/ptrace_test_util.h"

namespace palisade::platform::testing {
namespace {

class SwitchTest : public PtraceTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string PlatformName() const override { return GetParam(); }
  bool systrap() const { return GetParam() == "systrap"; }
  void SetUp() override {
    PtraceTest::SetUp();
    if (HasFatalFailure()) return;
    auto c = platform_->NewContext();
    ASSERT_TRUE(c.ok()) << c.status();
    ctx_ = std::move(*c);
  }
  pid_t StubPid() { return StubPidOf(*ctx_, *as_); }
  std::unique_ptr<Context> ctx_;
};

std::vector<std::string> MapsOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::vector<std::string> Fds(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

std::vector<std::string> FdsOf(pid_t pid) {
  std::vector<std::string> fds;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return fds;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') fds.push_back(e->d_name);
  }
  closedir(d);
  return fds;
}

TEST_P(SwitchTest, StubIsStrippedToTheStubPage) {
  const pid_t pid = StubPid();
  // Only the stub page (and the host's vsyscall page, which cannot be
  // unmapped; on systrap also the control page, read-only, and the
  // threads' regions) before any Switch: nothing of the sentry is
  // reachable.
  std::vector<std::string> maps = MapsOf(pid);
  ASSERT_FALSE(maps.empty());
  bool has_control = false, has_regions = false;
  for (const std::string& l : maps) {
    const bool stub = l.rfind("7d0000000000-7d0000001000 r-xp", 0) == 0;
    const bool vsyscall = l.find("[vsyscall]") != std::string::npos;
    const bool control = systrap() && l.rfind("7d0000010000-7d0000020000 r--s", 0) == 0;
    const bool regions = systrap() && l.rfind("7d0000020000-7d0004020000 rw-s", 0) == 0;
    has_control |= control;
    has_regions |= regions;
    EXPECT_TRUE(stub || vsyscall || control || regions) << l;
  }
  EXPECT_EQ(has_control, systrap());
  EXPECT_EQ(has_regions, systrap());
  // The MemoryFile; on systrap also the stub filter's own listener (fd 0,
  // the lowest free), which nothing in the stub may use.
  EXPECT_EQ(FdsOf(pid), systrap() ? Fds({"0", "100"}) : Fds({"100"}));
  if (!systrap()) {  // a systrap stub is not traced between syncs
    // glibc's rseq registration (into now-unmapped TLS) was removed.
    __ptrace_rseq_configuration conf{};
    ASSERT_GE(ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(conf), &conf), 0);
    EXPECT_EQ(conf.rseq_abi_pointer, 0u);
  }
  // After a Switch the app's mappings are there, shared from the memfd.
  Registers regs = Regs(prog_roundtrip);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  bool code = false, stack = false;
  for (const std::string& l : MapsOf(pid)) {
    code |= l.rfind("00400000-00401000 r-xs 00000000", 0) == 0;
    stack |= l.rfind("007f0000-007f1000 rw-s 00001000", 0) == 0;
  }
  EXPECT_TRUE(code);
  EXPECT_TRUE(stack);
}

TEST_P(SwitchTest, SyscallResultComesBack) {
  Registers regs = Regs(prog_roundtrip);
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_getpid);
  EXPECT_EQ(regs.rip, Prog(prog_roundtrip) + 7);  // mov $39,%eax (5) + syscall (2)
  regs.rax = 1234;
  ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_exit);
  EXPECT_EQ(regs.rdi, 1234u);  // went through rax, push and pop on the stack
}

// fs_base/gs_base are not in a signal frame; systrap's stub saves and
// restores them itself (wrfsbase or arch_prctl, stub_variant.h). The app
// sees the bases it was given, they come back with the event, and a
// change the sentry makes (arch_prctl(ARCH_SET_FS)) reaches the app.
TEST_P(SwitchTest, FsAndGsBasesReachTheAppAndComeBack) {
  // Two words in the stack page, away from where the stack grows.
  const uint64_t fs = kStack + 0x100, gs = kStack + 0x200;
  // The stack page is file page 1 (kStack maps offset kPage).
  FileWord(kPage + 0x100) = 0x1111;
  FileWord(kPage + 0x108) = 0x3333;
  FileWord(kPage + 0x208) = 0x2222;
  Registers regs = Regs(prog_fs_gs);
  regs.fs_base = fs;
  regs.gs_base = gs;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  EXPECT_EQ(regs.rdi, 0x1111u);
  EXPECT_EQ(regs.rsi, 0x2222u);
  EXPECT_EQ(regs.fs_base, fs);
  EXPECT_EQ(regs.gs_base, gs);
  regs.fs_base = fs + 8;  // as arch_prctl(ARCH_SET_FS) would
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_exit);
  EXPECT_EQ(regs.r8, 0x3333u);
  EXPECT_EQ(regs.r9, 0x2222u);
  EXPECT_EQ(regs.fs_base, fs + 8);
}

TEST_P(SwitchTest, RestartBySyscallRewind) {
  Registers regs = Regs(prog_roundtrip);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  // The documented restart: rip back over the syscall, rax = the number.
  regs.rip -= 2;
  regs.rax = regs.orig_rax;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_getpid);
}

TEST_P(SwitchTest, Int3IsSigtrap) {
  Registers regs = Regs(prog_int3);
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSignal);
  EXPECT_EQ(ev.info.si_signo, SIGTRAP);
  EXPECT_EQ(regs.rip, Prog(prog_int3) + 1);
}

TEST_P(SwitchTest, Ud2IsSigill) {
  Registers regs = Regs(prog_ud2);
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSignal);
  EXPECT_EQ(ev.info.si_signo, SIGILL);
  EXPECT_EQ(ev.info.si_code, ILL_ILLOPN);
  EXPECT_EQ(regs.rip, Prog(prog_ud2));
}

TEST_P(SwitchTest, DivideByZeroIsSigfpe) {
  Registers regs = Regs(prog_div0);
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSignal);
  EXPECT_EQ(ev.info.si_signo, SIGFPE);
  EXPECT_EQ(ev.info.si_code, FPE_INTDIV);
}

TEST_P(SwitchTest, PrivilegedInstructionIsSigsegvNotFault) {
  Registers regs = Regs(prog_hlt);
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSignal);  // a #GP has no fault address
  EXPECT_EQ(ev.info.si_signo, SIGSEGV);
  EXPECT_EQ(ev.info.si_code, SI_KERNEL);
}

TEST_P(SwitchTest, VsyscallIsNotAHostSyscall) {
  bool has_vsyscall = false;
  for (const std::string& l : MapsOf(getpid())) {
    has_vsyscall |= l.find("[vsyscall]") != std::string::npos;
  }
  if (!has_vsyscall) GTEST_SKIP() << "host has vsyscall=none";
  // The kernel emulates the call with a seccomp check but no ptrace stop:
  // the stub's filter turns it into SIGSYS instead of a host gettimeofday.
  Registers regs = Regs(prog_vsyscall);
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSignal);
  EXPECT_EQ(ev.info.si_signo, SIGSYS);
  EXPECT_EQ(ev.info.si_code, 1);  // SYS_SECCOMP
  EXPECT_EQ(ev.info.si_syscall, SYS_gettimeofday);
}

TEST_P(SwitchTest, SignalThenResumeElsewhere) {
  // After a signal the sentry may redirect the app (as for a handler).
  Registers regs = Regs(prog_ud2);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSignal);
  regs.rip = Prog(prog_roundtrip);
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_getpid);
}

TEST_P(SwitchTest, InterruptWhileSpinning) {
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ | PROT_WRITE).ok());
  volatile uint64_t& counter = FileWord(kDataOffset);
  counter = 0;
  std::atomic<bool> done{false};
  // Interrupt only once the app provably runs, so the kick path is tested
  // (not just the flag check at the start of Switch).
  std::thread interrupter([&] {
    while (counter == 0 && !done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ctx_->Interrupt();
  });
  Registers regs = Regs(prog_spin_count);
  regs.rdx = kData;
  Event ev = ctx_->Switch(*as_, regs);
  done = true;
  interrupter.join();
  ASSERT_EQ(ev.kind, EventKind::kInterrupted);
  EXPECT_GT(counter, 0u);
  EXPECT_GE(regs.rip, Prog(prog_spin_count));
  EXPECT_LT(regs.rip, Prog(prog_spin_count) + 8);
  // It resumes where it stopped and keeps counting.
  const uint64_t before = counter;
  std::thread again([&] {
    while (counter == before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ctx_->Interrupt();
  });
  ev = ctx_->Switch(*as_, regs);
  again.join();
  EXPECT_EQ(ev.kind, EventKind::kInterrupted);
  EXPECT_GT(counter, before);
}

TEST_P(SwitchTest, InterruptBeforeSwitchIsReportedOnce) {
  ctx_->Interrupt();
  Registers regs = Regs(prog_roundtrip);
  const Registers before = regs;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kInterrupted);
  EXPECT_EQ(regs.rip, before.rip);  // the app did not run
  // The kick signal is still pending in the stub: it must not produce a
  // second, spurious kInterrupted.
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_getpid);
}

TEST_P(SwitchTest, SignalsFromOutsideAreSuppressed) {
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ | PROT_WRITE).ok());
  volatile uint64_t& counter = FileWord(kDataOffset);
  counter = 0;
  std::thread outsider([&] {
    while (counter == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    kill(StubPid(), SIGTERM);  // would kill an unprepared process
    // A traced stub's SIGSTOP is suppressed; a systrap stub is untraced, so
    // SIGSTOP (which nothing can block) stops it until SIGCONT, like any
    // host process: only the host's root could send it.
    if (!systrap()) kill(StubPid(), SIGSTOP);
    kill(StubPid(), SIGSEGV);  // sent, not raised: no fault
    kill(StubPid(), SIGSYS);   // sent, not a seccomp trap: no syscall
    const uint64_t seen = counter;
    while (counter == seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ctx_->Interrupt();
  });
  Registers regs = Regs(prog_spin_count);
  regs.rdx = kData;
  Event ev = ctx_->Switch(*as_, regs);
  outsider.join();
  EXPECT_EQ(ev.kind, EventKind::kInterrupted);
}

TEST_P(SwitchTest, KilledStubIsDied) {
  Registers regs = Regs(prog_roundtrip);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  ASSERT_EQ(kill(StubPid(), SIGKILL), 0);
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kDied);
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kDied);  // and stays so
  FpState fp;
  EXPECT_EQ(ctx_->GetFpState(fp), Errno(ESRCH));
  ctx_->Interrupt();  // harmless on a dead stub
}

TEST_P(SwitchTest, DestructorReapsStub) {
  const pid_t pid = StubPid();
  ASSERT_EQ(kill(pid, 0), 0);
  ctx_.reset();
  // On systrap the process belongs to the address space: it goes with it,
  // killed without waiting (the factory reaps it).
  if (systrap()) {
    EXPECT_EQ(kill(pid, 0), 0);
    as_.reset();
    for (int i = 0; i < 500 && kill(pid, 0) == 0; ++i) usleep(10000);
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_P(SwitchTest, RejectedRegistersAreSigsegv) {
  Registers regs = Regs(prog_roundtrip);
  regs.cs = 0;  // the host refuses a null code segment
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSignal);
  EXPECT_EQ(ev.info.si_signo, SIGSEGV);
  EXPECT_EQ(ev.info.si_code, SI_KERNEL);
  // The context is still usable with valid registers.
  regs = Regs(prog_roundtrip);
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
}

TEST_P(SwitchTest, FreshFpStateIsClean) {
  FpState fp;
  ASSERT_TRUE(ctx_->GetFpState(fp).ok());
  EXPECT_EQ(fp.cwd, 0x37f);
  EXPECT_EQ(fp.mxcsr, 0x1f80u);
  for (unsigned v : fp.xmm_space) EXPECT_EQ(v, 0u);  // nothing of the sentry's
  for (unsigned v : fp.st_space) EXPECT_EQ(v, 0u);
}

TEST_P(SwitchTest, FpStateRoundTrip) {
  FpState fp;
  ASSERT_TRUE(ctx_->GetFpState(fp).ok());
  fp.xmm_space[0] = 0x11223344;  // xmm0 low quadword
  fp.xmm_space[1] = 0x55667788;
  ASSERT_TRUE(ctx_->SetFpState(fp).ok());
  Registers regs = Regs(prog_fp);
  regs.rdi = 0xabcdef0123456789;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.rdi, 0x5566778811223344u);  // the app saw our xmm0
  ASSERT_TRUE(ctx_->GetFpState(fp).ok());
  EXPECT_EQ(fp.xmm_space[4], 0x23456789u);  // and we see its xmm1
  EXPECT_EQ(fp.xmm_space[5], 0xabcdef01u);
}

TEST_P(SwitchTest, ManyContextsOnOneThread) {
  // A thread may trace several stubs (e.g. a vfork parent and child).
  auto c2 = platform_->NewContext();
  ASSERT_TRUE(c2.ok()) << c2.status();
  Registers r1 = Regs(prog_roundtrip), r2 = Regs(prog_roundtrip);
  ASSERT_EQ(ctx_->Switch(*as_, r1).kind, EventKind::kSyscall);
  ASSERT_EQ((*c2)->Switch(*as_, r2).kind, EventKind::kSyscall);
  r1.rax = 1;
  r2.rax = 2;
  ASSERT_EQ((*c2)->Switch(*as_, r2).kind, EventKind::kSyscall);
  ASSERT_EQ(ctx_->Switch(*as_, r1).kind, EventKind::kSyscall);
  EXPECT_EQ(r1.rdi, 1u);
  EXPECT_EQ(r2.rdi, 2u);
}

INSTANTIATE_TEST_SUITE_P(Platforms, SwitchTest, ::testing::Values("ptrace", "systrap"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace palisade::platform::testing
