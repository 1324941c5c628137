// Address-space layout choice (layout.h) and the auxv contents
// (auxv_x86_64.h).
#include <elf.h>
#include <sys/auxv.h>

#include "gtest/gtest.h"
#include "sentry/loader/auxv_x86_64.h"
#include "sentry/loader/layout.h"

namespace palisade::loader {
namespace {

TEST(LayoutTest, StaysBelowMaxUserAddress) {
  for (uint64_t r : {uint64_t{0}, uint64_t{1}, uint64_t{12345}, ~uint64_t{0}}) {
    AddressLayout l = ChooseLayout({r, r * 3, r * 7});
    EXPECT_LE(l.stack_top, kStackTopMax);
    EXPECT_LT(l.stack_top, kMaxUserAddress);
    EXPECT_EQ(l.stack_top % kPageSize, 0u);
    EXPECT_EQ(l.stack_top - l.stack_bottom, kStackReserve);
    EXPECT_GT(l.stack_top, kStackTopMax - kStackRandomPages * kPageSize);
    // The mmap area is below the whole stack reserve, with a gap.
    EXPECT_LE(l.mmap_base + kMmapGap, l.stack_top);
    EXPECT_LT(l.mmap_base, l.stack_bottom);
    EXPECT_EQ(l.mmap_base % kPageSize, 0u);
    EXPECT_LT(l.stack_pad, kStackPadRange);
    // The PIE image is far below everything.
    EXPECT_LT(kPieBase + (1ull << 40), l.mmap_base);
  }
  AddressLayout fixed = ChooseLayout({0, 0, 0});
  EXPECT_EQ(fixed.stack_top, 0x7bfffffff000u);
  EXPECT_EQ(fixed.stack_pad, 0u);
}

TEST(AuxvTest, LinuxOrderAndValues) {
  HostAuxv host{.hwcap = 0x178bfbff, .hwcap2 = 2, .minsigstksz = 3376};
  auto v = BuildAuxv({.phdr = 0x400040, .phnum = 10, .base = 0x7f0000000000, .entry = 0x401000,
                      .uid = 1000, .euid = 1001, .gid = 100, .egid = 101},
                     host);
  std::vector<uint64_t> types;
  for (const AuxEntry& e : v) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<uint64_t>{AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT,
                                          AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID,
                                          AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM}));
  auto get = [&](uint64_t t) {
    for (const AuxEntry& e : v)
      if (e.type == t) return e.value;
    return ~uint64_t{0};
  };
  EXPECT_EQ(get(AT_MINSIGSTKSZ), 3376u);
  EXPECT_EQ(get(AT_HWCAP), 0x178bfbffu);
  EXPECT_EQ(get(AT_HWCAP2), 2u);
  EXPECT_EQ(get(AT_PAGESZ), 4096u);
  EXPECT_EQ(get(AT_CLKTCK), 100u);
  EXPECT_EQ(get(AT_PHDR), 0x400040u);
  EXPECT_EQ(get(AT_PHENT), 56u);
  EXPECT_EQ(get(AT_PHNUM), 10u);
  EXPECT_EQ(get(AT_BASE), 0x7f0000000000u);
  EXPECT_EQ(get(AT_ENTRY), 0x401000u);
  EXPECT_EQ(get(AT_UID), 1000u);
  EXPECT_EQ(get(AT_EUID), 1001u);
  EXPECT_EQ(get(AT_GID), 100u);
  EXPECT_EQ(get(AT_EGID), 101u);
  EXPECT_EQ(get(AT_SECURE), 0u);
  // No vDSO: glibc must not look for one.
  EXPECT_EQ(get(AT_SYSINFO_EHDR), ~uint64_t{0});
}

TEST(AuxvTest, NoMinSigStkSzWhenHostLacksIt) {
  auto v = BuildAuxv({}, HostAuxv{.hwcap = 1});
  for (const AuxEntry& e : v) EXPECT_NE(e.type, static_cast<uint64_t>(AT_MINSIGSTKSZ));
}

TEST(AuxvTest, HostValuesComeFromTheHost) {
  const HostAuxv& h = GetHostAuxv();
  // CPUID.1:EDX, as the kernel's: every x86-64 CPU has FPU (bit 0) and
  // SSE2 (bit 26). glibc's getauxval(AT_HWCAP) is its own value (2).
  EXPECT_TRUE(h.hwcap & (1u << 0));
  EXPECT_TRUE(h.hwcap & (1u << 26));
  EXPECT_EQ(h.hwcap2, getauxval(AT_HWCAP2));
  EXPECT_EQ(h.minsigstksz, getauxval(AT_MINSIGSTKSZ));
}

}  // namespace
}  // namespace palisade::loader
