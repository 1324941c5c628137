// Segment mapping plans (sentry/loader/elf_plan.h) and load-bias choice
// (layout.h), for synthetic images and real binaries.
#include "sentry/loader/elf_plan.h"

#include <elf.h>
#include <sys/mman.h>

#include "gtest/gtest.h"
#include "sentry/loader/layout.h"
#include "tests/unit/loader/test_elf.h"

namespace palisade::loader {
namespace {

using Kind = MapStep::Kind;
using testing::ReadFile;
using testing::TestElf;

ElfInfo Parse(TestElf& e) {
  auto info = ParseElfHeaders(e.Bytes());
  EXPECT_TRUE(info.ok()) << info.error().Name();
  return info.ok() ? *info : ElfInfo{};
}

TEST(ElfPlanTest, FileBssTailAndAnonymousBss) {
  TestElf e;
  ElfPlan plan = *PlanElfMapping(Parse(e), 0);
  ASSERT_EQ(plan.steps.size(), 4u);
  // Text: a plain file mapping.
  EXPECT_EQ(plan.steps[0].kind, Kind::kFile);
  EXPECT_EQ(plan.steps[0].addr, 0x400000u);
  EXPECT_EQ(plan.steps[0].len, 0x2000u);
  EXPECT_EQ(plan.steps[0].offset, 0u);
  EXPECT_EQ(plan.steps[0].prot, PROT_READ | PROT_EXEC);
  // Data at 0x602100 (+0x800 file bytes, 0x3000 in memory).
  EXPECT_EQ(plan.steps[1].kind, Kind::kFile);
  EXPECT_EQ(plan.steps[1].addr, 0x602000u);
  EXPECT_EQ(plan.steps[1].len, 0x1000u);
  EXPECT_EQ(plan.steps[1].offset, 0x2000u);
  EXPECT_EQ(plan.steps[2].kind, Kind::kZero);  // rest of the last file page
  EXPECT_EQ(plan.steps[2].addr, 0x602900u);
  EXPECT_EQ(plan.steps[2].len, 0x700u);
  EXPECT_EQ(plan.steps[3].kind, Kind::kAnon);  // whole bss pages
  EXPECT_EQ(plan.steps[3].addr, 0x603000u);
  EXPECT_EQ(plan.steps[3].len, 0x3000u);  // up to PageUp(0x605100)
  EXPECT_EQ(plan.steps[3].prot, PROT_READ | PROT_WRITE);

  EXPECT_EQ(plan.entry, 0x401000u);
  EXPECT_EQ(plan.phdr, 0x400040u);
  EXPECT_EQ(plan.start_code, 0x400000u);
  EXPECT_EQ(plan.end_code, 0x402000u);
  EXPECT_EQ(plan.start_data, 0x602100u);
  EXPECT_EQ(plan.end_data, 0x602900u);
  EXPECT_EQ(plan.brk, 0x606000u);
}

TEST(ElfPlanTest, BssOnlySegmentAndPageAlignedFileEnd) {
  TestElf e;
  // Data file bytes end exactly on a page: no zeroing step.
  e.phdrs[1] = TestElf::Load(0x602000, 0x2000, 0x1000, 0x1000, PF_R | PF_W);
  // A segment with no file bytes at all: anonymous only.
  e.phdrs.push_back(TestElf::Load(0x700010, 0, 0, 0x2000, PF_R | PF_W));
  ElfPlan plan = *PlanElfMapping(Parse(e), 0);
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.steps[1].kind, Kind::kFile);
  EXPECT_EQ(plan.steps[2].kind, Kind::kAnon);
  EXPECT_EQ(plan.steps[2].addr, 0x700000u);
  EXPECT_EQ(plan.steps[2].len, 0x3000u);  // PageUp(0x10 + 0x2000)
  EXPECT_EQ(plan.brk, 0x703000u);
}

TEST(ElfPlanTest, BiasShiftsEverything) {
  TestElf e;
  e.eh.e_type = ET_DYN;
  e.eh.e_entry = 0x1000;
  e.phdrs[0] = TestElf::Load(0, 0, 0x2000, 0x2000, PF_R | PF_X);
  e.phdrs[1] = TestElf::Load(0x2100, 0x2100, 0x800, 0x800, PF_R | PF_W);
  ElfInfo info = Parse(e);
  uint64_t bias = MainPieBias(info);
  EXPECT_EQ(bias, kPieBase);
  ElfPlan plan = *PlanElfMapping(info, bias);
  EXPECT_EQ(plan.steps[0].addr, kPieBase);
  EXPECT_EQ(plan.entry, kPieBase + 0x1000);
  EXPECT_EQ(plan.phdr, kPieBase + 0x40);
  EXPECT_EQ(plan.brk, kPieBase + 0x3000);
}

TEST(ElfPlanTest, PieBiasHonoursLargeAlignment) {
  TestElf e;
  e.eh.e_type = ET_DYN;
  e.phdrs[0] = TestElf::Load(0, 0, 0x2000, 0x2000, PF_R | PF_X);
  e.phdrs[0].p_align = 0x200000;
  e.phdrs[1] = TestElf::Load(0x202100, 0x2100, 0x800, 0x800, PF_R | PF_W);
  ElfInfo info = Parse(e);
  uint64_t bias = MainPieBias(info);
  EXPECT_EQ(bias % 0x200000, 0u);
  EXPECT_LE(bias, kPieBase);
}

TEST(ElfPlanTest, OutOfRangeIsEinval) {
  TestElf e;
  ElfInfo info = Parse(e);
  EXPECT_EQ(PlanElfMapping(info, kMaxUserAddress).error(), Errno(EINVAL));
  EXPECT_EQ(PlanElfMapping(info, kMaxUserAddress - 0x400000 - 0x1000).error(), Errno(EINVAL));
  EXPECT_EQ(PlanElfMapping(info, 0x123).error(), Errno(EINVAL));  // not page aligned
  // A "negative" bias (modulo 2^64) is fine while the result stays in range.
  EXPECT_TRUE(PlanElfMapping(info, ~uint64_t{0} - 0x100000 + 1).ok());
  EXPECT_EQ(PlanElfMapping(info, ~uint64_t{0} - 0x500000 + 1).error(), Errno(EINVAL));
}

TEST(ElfPlanHostFilesTest, Busybox) {
  auto f = ReadFile("/bin/busybox");
  if (!f) GTEST_SKIP() << "no /bin/busybox";
  auto info = ParseElfHeaders(*f);
  ASSERT_TRUE(info.ok());
  auto plan = PlanElfMapping(*info, info->type == ET_DYN ? MainPieBias(*info) : 0);
  ASSERT_TRUE(plan.ok()) << plan.error().Name();
  uint64_t prev_end = 0;
  for (const MapStep& s : plan->steps) {
    if (s.kind != Kind::kZero) {
      EXPECT_EQ(s.addr % kPageSize, 0u);
      EXPECT_EQ(s.len % kPageSize, 0u);
      EXPECT_GE(s.addr, prev_end) << "segments overlap";  // true for this busybox
      prev_end = s.addr + s.len;
    }
    if (s.kind == Kind::kFile) {
      EXPECT_EQ(s.offset % kPageSize, 0u);
      EXPECT_LE(s.offset, f->size());
    }
    if (s.kind == Kind::kZero) {
      EXPECT_LT(s.len, kPageSize);
    }
  }
  EXPECT_EQ(plan->brk, prev_end);  // the heap starts right after the bss
  EXPECT_GE(plan->entry, plan->start_code);
  EXPECT_LT(plan->entry, plan->end_code);
}

TEST(ElfPlanHostFilesTest, PieBinaryLandsAtPieBase) {
  auto f = ReadFile("/bin/ls");
  if (!f) GTEST_SKIP() << "no /bin/ls";
  auto info = ParseElfHeaders(*f);
  ASSERT_TRUE(info.ok());
  if (info->type != ET_DYN) GTEST_SKIP() << "/bin/ls is not PIE here";
  auto plan = PlanElfMapping(*info, MainPieBias(*info));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->steps.front().addr, kPieBase);
  EXPECT_EQ(plan->phdr, kPieBase + info->phdr_vaddr);
}

}  // namespace
}  // namespace palisade::loader
