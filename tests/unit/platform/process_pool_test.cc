// ProcessPool: the spare systrap process is made on the pool's own thread
// and works for the thread that takes it; a failed make is not retried
// until the next Take().
#include "platform/systrap/process_pool.h"

#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "platform/systrap/context.h"
#include "platform/systrap/stub_filter.h"
#include "platform/systrap/stub_variant.h"
#include "platform/systrap/systrap_platform.h"
#include "tests/unit/platform/ptrace_test_util.h"

namespace palisade::platform::testing {
namespace {

class ProcessPoolTest : public PtraceTest {
 protected:
  std::string PlatformName() const override { return "systrap"; }
  absl::StatusOr<std::shared_ptr<SystrapProcess>> Make() {
    ++made_;
    if (fail_) return absl::ResourceExhaustedError("no more");
    auto page = StubPage::Get();
    if (!page.ok()) return page.status();
    const SystrapStubVariant v = HostSystrapStubVariant();
    auto filter = BuildSystrapFilter(!v.fsgsbase);
    if (!filter.ok()) return filter.status();
    return SystrapProcess::Create(**page, memfd_.get(), *filter, v, SystrapPlatform::kMinUserAddress,
                                  SystrapPlatform::kMaxUserAddress);
  }
  // Waits (up to 20 s: a loaded machine) until make_ has run n times.
  bool WaitMade(int n) {
    for (int i = 0; i < 2000 && made_.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return made_.load() >= n;
  }
  std::atomic<int> made_{0};
  std::atomic<bool> fail_{false};
};

TEST_F(ProcessPoolTest, SpareIsMadeElsewhereAndRunsHere) {
  ProcessPool pool([this] { return Make(); });
  EXPECT_EQ(pool.Take(), nullptr);  // none yet: the first Take starts the filler
  ASSERT_TRUE(WaitMade(1));
  std::shared_ptr<SystrapProcess> p;
  for (int i = 0; i < 2000 && !p; ++i) {
    p = pool.Take();
    if (!p) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(p, nullptr);
  auto c = std::make_unique<SystrapContext>([p] { return p; });
  Registers regs = Regs(prog_roundtrip);
  ASSERT_EQ(c->Switch(*as_, regs).kind, EventKind::kSyscall);  // synced and run from this thread
  EXPECT_EQ(regs.orig_rax, SYS_getpid);
  regs.rax = 7;
  ASSERT_EQ(c->Switch(*as_, regs).kind, EventKind::kSyscall);
  EXPECT_EQ(regs.rdi, 7u);
  ASSERT_TRUE(WaitMade(2));  // that Take asked for the next spare
}

TEST_F(ProcessPoolTest, FailureWaitsForTheNextTake) {
  fail_ = true;
  ProcessPool pool([this] { return Make(); });
  EXPECT_EQ(pool.Take(), nullptr);
  ASSERT_TRUE(WaitMade(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(made_.load(), 1);  // not retried in a loop
  EXPECT_EQ(pool.Take(), nullptr);
  EXPECT_TRUE(WaitMade(2));
}

}  // namespace
}  // namespace palisade::platform::testing
