// StubProcess directly: syscall injection, and the stub's seccomp filter
// stopping a syscall that does not come from the stub page (what would
// happen if app code were ever resumed without PTRACE_SYSEMU).
#include "platform/ptrace/stub_process.h"

#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tests/unit/platform/ptrace_test_util.h"

namespace palisade::platform::testing {
namespace {

class StubProcessTest : public PtraceTest {
 protected:
  void SetUp() override {
    PtraceTest::SetUp();
    if (HasFatalFailure()) return;
    auto page = StubPage::Get();
    ASSERT_TRUE(page.ok()) << page.status();
    auto s = StubProcess::Spawn(**page, memfd_.get());
    ASSERT_TRUE(s.ok()) << s.status();
    stub_ = std::move(*s);
  }
  std::unique_ptr<StubProcess> stub_;
};

TEST_F(StubProcessTest, InjectedSyscallsRunOnTheHost) {
  ErrnoOr<int64_t> r = stub_->Inject(SYS_getpid, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, stub_->pid());
  r = stub_->Inject(SYS_close, {12345});  // errors come back as -errno
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, -EBADF);
}

TEST_F(StubProcessTest, KickDuringInjectionIsSwallowed) {
  stub_->Kick();
  ErrnoOr<int64_t> r = stub_->Inject(SYS_getpid, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, stub_->pid());
}

TEST_F(StubProcessTest, SyscallOutsideTheStubPageIsTrapped) {
  ErrnoOr<int64_t> r = stub_->Inject(
      SYS_mmap, {kCode, kPage, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, StubProcess::kMemFd, 0});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(*r, static_cast<int64_t>(kCode));
  Registers regs;
  ASSERT_TRUE(stub_->GetRegs(regs).ok());
  regs.rip = Prog(prog_roundtrip);
  regs.orig_rax = ~uint64_t{0};
  ASSERT_TRUE(stub_->SetRegs(regs).ok());
  ErrnoOr<int> st = stub_->ResumeAndWait(PTRACE_CONT);  // no SYSEMU: a real syscall attempt
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(WIFSTOPPED(*st));
  EXPECT_EQ(WSTOPSIG(*st), SIGSYS);
  siginfo_t si;
  ASSERT_TRUE(stub_->GetSigInfo(si).ok());
  EXPECT_EQ(si.si_code, 1);  // SYS_SECCOMP (asm-generic/siginfo.h, clashes with glibc)
  EXPECT_EQ(si.si_syscall, SYS_getpid);
  EXPECT_TRUE(IsSynchronousSignal(si));
}

TEST_F(StubProcessTest, KillReaps) {
  const pid_t pid = stub_->pid();
  stub_->Kill();
  EXPECT_FALSE(stub_->alive());
  EXPECT_EQ(kill(pid, 0), -1);
  stub_->Kill();  // idempotent
  EXPECT_EQ(stub_->Inject(SYS_getpid, {}).error(), Errno(ESRCH));
}

}  // namespace
}  // namespace palisade::platform::testing
