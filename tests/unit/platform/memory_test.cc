// Address spaces on every platform (ptrace, systrap): faults and resuming after mapping,
// unmap and protection changes, memory shared by Contexts on different
// tracer threads, switching between address spaces, and many incremental
// changes (the stub's view must always equal the table).
#include <signal.h>
#include <sys/syscall.h>

#include <map>
#include <optional>
#include <random>

#include "platform/ptrace/address_space.h"
#include "tests/unit/platform/ptrace_test_util.h"

namespace palisade::platform::testing {
namespace {

class MemoryTest : public PtraceTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string PlatformName() const override { return GetParam(); }
  void SetUp() override {
    PtraceTest::SetUp();
    if (HasFatalFailure()) return;
    auto c = platform_->NewContext();
    ASSERT_TRUE(c.ok()) << c.status();
    ctx_ = std::move(*c);
  }

  // Runs prog_load on addr in as: the loaded word, or nullopt on kFault
  // at addr. Anything else fails the test.
  std::optional<uint64_t> Load(AddressSpace& as, uint64_t addr) {
    Registers regs = Regs(prog_load);
    regs.rdx = addr;
    Event ev = ctx_->Switch(as, regs);
    if (ev.kind == EventKind::kFault) {
      EXPECT_EQ(ev.fault_addr, addr);
      EXPECT_EQ(ev.info.si_signo, SIGSEGV);
      return std::nullopt;
    }
    EXPECT_EQ(ev.kind, EventKind::kSyscall);
    EXPECT_EQ(regs.orig_rax, SYS_exit);
    return regs.rdi;
  }

  std::unique_ptr<Context> ctx_;
};

TEST_P(MemoryTest, FaultThenMapThenResume) {
  Registers regs = Regs(prog_load);
  regs.rdx = kData + 8;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kFault);
  EXPECT_EQ(ev.fault_addr, kData + 8);
  EXPECT_EQ(ev.fault_code, SEGV_MAPERR);
  EXPECT_EQ(ev.info.si_signo, SIGSEGV);
  EXPECT_EQ(regs.rip, Prog(prog_load));  // the faulting instruction
  FileWord(kDataOffset + 8) = 0x1234567890;
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ).ok());
  ev = ctx_->Switch(*as_, regs);  // same registers: retries the load
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.rdi, 0x1234567890u);
}

TEST_P(MemoryTest, ExecuteUnmappedFaultsAtTarget) {
  Registers regs = Regs(prog_jump);
  regs.rdx = 0x600000;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kFault);
  EXPECT_EQ(ev.fault_addr, 0x600000u);
  EXPECT_EQ(regs.rip, 0x600000u);
}

TEST_P(MemoryTest, UnmapThenAccessFaults) {
  FileWord(kDataOffset) = 77;
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ).ok());
  EXPECT_EQ(Load(*as_, kData), 77u);
  as_->Unmap(kData, kPage);
  EXPECT_EQ(Load(*as_, kData), std::nullopt);
}

TEST_P(MemoryTest, WriteToReadOnlyFaultsWithAccErr) {
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ | PROT_WRITE).ok());
  Registers regs = Regs(prog_store_then_load);
  regs.rdx = kData;
  regs.rsi = 5;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, EventKind::kSyscall);
  EXPECT_EQ(FileWord(kDataOffset), 5u);  // the write reached the MemoryFile
  // Like mprotect(PROT_READ): remap the same range read-only.
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ).ok());
  regs = Regs(prog_store_then_load);
  regs.rdx = kData;
  regs.rsi = 6;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kFault);
  EXPECT_EQ(ev.fault_addr, kData);
  EXPECT_EQ(ev.fault_code, SEGV_ACCERR);
  EXPECT_EQ(FileWord(kDataOffset), 5u);
}

TEST_P(MemoryTest, CodeIsNotWritable) {
  Registers regs = Regs(prog_store_then_load);
  regs.rdx = kCode;
  Event ev = ctx_->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kFault);
  EXPECT_EQ(ev.fault_code, SEGV_ACCERR);
}

TEST_P(MemoryTest, ContextsOnTwoThreadsShareMemory) {
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ | PROT_WRITE).ok());
  TracerThread ta, tb;
  std::unique_ptr<Context> ca, cb;
  auto make = [this](std::unique_ptr<Context>& out) {
    auto c = platform_->NewContext();
    ASSERT_TRUE(c.ok()) << c.status();
    out = std::move(*c);
  };
  ta.Run([&] { make(ca); });
  tb.Run([&] { make(cb); });
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(cb, nullptr);
  Registers ra = Regs(prog_store_then_load), rb = Regs(prog_load);
  ra.rdx = rb.rdx = kData;
  ra.rsi = 0xaaaa;
  Event ev;
  ta.Run([&] { ev = ca->Switch(*as_, ra); });  // A stores, stops at getpid
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  tb.Run([&] { ev = cb->Switch(*as_, rb); });  // B loads what A stored
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(rb.rdi, 0xaaaau);
  rb = Regs(prog_store_then_load);
  rb.rdx = kData;
  rb.rsi = 0xbbbb;
  tb.Run([&] { ev = cb->Switch(*as_, rb); });  // B stores
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  ta.Run([&] { ev = ca->Switch(*as_, ra); });  // A reloads: sees B's value
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(ra.rdi, 0xbbbbu);
  EXPECT_EQ(FileWord(kDataOffset), 0xbbbbu);
  ta.Run([&] { ca.reset(); });
  tb.Run([&] { cb.reset(); });
}

TEST_P(MemoryTest, UnmapReachesOtherThreadAtItsNextSwitch) {
  FileWord(kDataOffset) = 9;
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ).ok());
  TracerThread other;
  std::unique_ptr<Context> c2;
  std::optional<uint64_t> got;
  other.Run([&] {
    auto c = platform_->NewContext();
    ASSERT_TRUE(c.ok()) << c.status();
    c2 = std::move(*c);
  });
  ASSERT_NE(c2, nullptr);
  auto load_on_other = [&] {
    Registers regs = Regs(prog_load);
    regs.rdx = kData;
    Event ev = c2->Switch(*as_, regs);
    got = ev.kind == EventKind::kSyscall ? std::optional<uint64_t>(regs.rdi) : std::nullopt;
  };
  other.Run(load_on_other);
  EXPECT_EQ(got, 9u);
  as_->Unmap(kData, kPage);  // from this thread, while c2 is idle
  other.Run(load_on_other);
  EXPECT_EQ(got, std::nullopt);
  other.Run([&] { c2.reset(); });
}

TEST_P(MemoryTest, SwitchingAddressSpacesGivesACleanView) {
  FileWord(kDataOffset) = 41;
  ASSERT_TRUE(as_->MapFile(kData, kPage, kDataOffset, PROT_READ).ok());
  auto as2 = platform_->NewAddressSpace();  // as after execve
  ASSERT_TRUE(MapStandard(*as2));
  EXPECT_EQ(Load(*as_, kData), 41u);
  EXPECT_EQ(Load(*as2, kData), std::nullopt);  // not inherited from as_
  FileWord(kDataOffset + kPage) = 42;
  ASSERT_TRUE(as2->MapFile(kData, kPage, kDataOffset + kPage, PROT_READ).ok());
  EXPECT_EQ(Load(*as2, kData), 42u);
  EXPECT_EQ(Load(*as_, kData), 41u);  // and back
  ctx_->ResetAddressSpace();
  EXPECT_EQ(Load(*as_, kData), 41u);
  EXPECT_EQ(Load(*as_, kData + kPage), std::nullopt);
}

// Random changes between Switches, sometimes more than the change log
// holds; after each round every page must read as the table says.
TEST_P(MemoryTest, RandomChangesMatchTheTable) {
  constexpr int kPages = 48;
  constexpr uint64_t kFilePages = 64;
  for (uint64_t i = 0; i < kFilePages; ++i) FileWord(kDataOffset + i * kPage) = 1000 + i;
  std::map<int, uint64_t> model;  // page index -> file page index
  std::mt19937 rng(7);
  for (int round = 0; round < 12; ++round) {
    const int changes = round == 5 ? int(PtraceAddressSpace::kMaxLog) + 40 : 1 + rng() % 10;
    for (int c = 0; c < changes; ++c) {
      const int first = rng() % kPages;
      const int n = 1 + rng() % std::min(6, kPages - first);
      if (rng() % 3 == 0) {
        as_->Unmap(kData + first * kPage, n * kPage);
        for (int i = 0; i < n; ++i) model.erase(first + i);
      } else {
        // Contiguous file pages half the time, so coalescing is exercised.
        const uint64_t fp = rng() % (kFilePages - n);
        ASSERT_TRUE(as_->MapFile(kData + first * kPage, n * kPage, kDataOffset + fp * kPage,
                                 PROT_READ)
                        .ok());
        for (int i = 0; i < n; ++i) model[first + i] = fp + i;
      }
    }
    for (int p = 0; p < kPages; ++p) {
      auto it = model.find(p);
      std::optional<uint64_t> want;
      if (it != model.end()) want = 1000 + it->second;
      ASSERT_EQ(Load(*as_, kData + p * kPage + 0), want) << "round " << round << " page " << p;
    }
  }
}

TEST_P(MemoryTest, MapFileValidates) {
  EXPECT_EQ(as_->MapFile(kData + 1, kPage, 0, PROT_READ), Errno(EINVAL));
  EXPECT_EQ(as_->MapFile(kData, 100, 0, PROT_READ), Errno(EINVAL));
  EXPECT_EQ(as_->MapFile(kData, kPage, 3, PROT_READ), Errno(EINVAL));
  EXPECT_EQ(as_->MapFile(kData, 0, 0, PROT_READ), Errno(EINVAL));
  EXPECT_EQ(as_->MapFile(0x1000, kPage, 0, PROT_READ), Errno(EINVAL));  // below min
  EXPECT_EQ(as_->MapFile(platform_->MaxUserAddress(), kPage, 0, PROT_READ), Errno(EINVAL));
  EXPECT_EQ(as_->MapFile(kData, kPage, 0, PROT_READ | 0x100), Errno(EINVAL));
  EXPECT_TRUE(as_->MapFile(platform_->MaxUserAddress() - kPage, kPage, 0, PROT_READ).ok());
}

TEST_P(MemoryTest, HighestAppPageIsUsable) {
  const uint64_t top = platform_->MaxUserAddress() - kPage;
  FileWord(kDataOffset) = 5150;
  ASSERT_TRUE(as_->MapFile(top, kPage, kDataOffset, PROT_READ).ok());
  EXPECT_EQ(Load(*as_, top), 5150u);
  // Nothing of the sentry is visible above the app range (the stub page
  // excepted) or in it: e.g. the sentry's own stack region.
  EXPECT_EQ(Load(*as_, platform_->MaxUserAddress()), std::nullopt);
  uint64_t local = 0;
  const uint64_t sentry_stack = reinterpret_cast<uint64_t>(&local) & ~(kPage - 1);
  EXPECT_EQ(Load(*as_, sentry_stack), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Platforms, MemoryTest, ::testing::Values("ptrace", "systrap"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace palisade::platform::testing
