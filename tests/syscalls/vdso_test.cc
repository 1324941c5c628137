// The vDSO (vdso(7)): AT_SYSINFO_EHDR names an ELF image exporting
// __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time and
// __vdso_getcpu (version LINUX_2.6); their answers agree with the
// syscalls, and CLOCK_MONOTONIC read through it never goes backwards.
// Natively this is the host kernel's vDSO; in the sandbox, the sentry's.
#include <dlfcn.h>
#include <elf.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"

namespace {

using ClockGettimeFn = int (*)(clockid_t, struct timespec*);
using GettimeofdayFn = int (*)(struct timeval*, struct timezone*);
using TimeFn = time_t (*)(time_t*);
using GetcpuFn = int (*)(unsigned*, unsigned*, void*);

constexpr int64_t kNs = 1'000'000'000;
// Scheduling on a loaded machine can separate two reads by a lot; the
// comparisons below bracket the vDSO read between two syscalls and only
// allow this much on top (the vDSO's own error is microseconds).
constexpr int64_t kSlackNs = 20'000'000;

int64_t ToNs(const struct timespec& ts) { return int64_t{ts.tv_sec} * kNs + ts.tv_nsec; }

int64_t SyscallNs(clockid_t c) {
  struct timespec ts;
  EXPECT_EQ(syscall(SYS_clock_gettime, c, &ts), 0);
  return ToNs(ts);
}

// A vDSO symbol, looked up the way glibc does (the vDSO is in the link map
// as linux-vdso.so.1).
void* VdsoSym(const char* name) {
  void* h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (h == nullptr) return nullptr;
  void* sym = dlvsym(h, name, "LINUX_2.6");
  dlclose(h);
  return sym;
}

class VdsoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ehdr_ = getauxval(AT_SYSINFO_EHDR);
    ASSERT_NE(ehdr_, 0u) << "no AT_SYSINFO_EHDR";
    clock_gettime_ = reinterpret_cast<ClockGettimeFn>(VdsoSym("__vdso_clock_gettime"));
    ASSERT_NE(clock_gettime_, nullptr);
  }
  uint64_t ehdr_ = 0;
  ClockGettimeFn clock_gettime_ = nullptr;
};

TEST_F(VdsoTest, SysinfoEhdrIsAnElfImageWithTheSymbols) {
  const auto* e = reinterpret_cast<const Elf64_Ehdr*>(ehdr_);
  EXPECT_EQ(std::memcmp(e->e_ident, ELFMAG, SELFMAG), 0);
  EXPECT_EQ(e->e_type, ET_DYN);
  EXPECT_EQ(e->e_machine, EM_X86_64);
  for (const char* name :
       {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu"}) {
    SCOPED_TRACE(name);
    const auto addr = reinterpret_cast<uint64_t>(VdsoSym(name));
    EXPECT_GT(addr, ehdr_);  // inside the image, past its header
    EXPECT_LT(addr, ehdr_ + (1 << 20));
  }
}

TEST_F(VdsoTest, ClockGettimeAgreesWithTheSyscall) {
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW}) {
    SCOPED_TRACE(c);
    const int64_t before = SyscallNs(c);
    struct timespec ts;
    ASSERT_EQ(clock_gettime_(c, &ts), 0);
    const int64_t after = SyscallNs(c);
    EXPECT_GE(ts.tv_nsec, 0);
    EXPECT_LT(ts.tv_nsec, kNs);
    EXPECT_GE(ToNs(ts), before - kSlackNs);
    EXPECT_LE(ToNs(ts), after + kSlackNs);
  }
}

TEST_F(VdsoTest, UnservedClocksStillWork) {
  // CPU-time clocks and bad ids go to the kernel through the vDSO.
  struct timespec ts;
  EXPECT_EQ(clock_gettime_(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
  EXPECT_EQ(clock_gettime_(12345, &ts), -EINVAL);  // the raw syscall's result
}

TEST_F(VdsoTest, GettimeofdayAndTimeAgreeWithTheSyscalls) {
  auto gtod = reinterpret_cast<GettimeofdayFn>(VdsoSym("__vdso_gettimeofday"));
  auto vtime = reinterpret_cast<TimeFn>(VdsoSym("__vdso_time"));
  ASSERT_NE(gtod, nullptr);
  ASSERT_NE(vtime, nullptr);
  const int64_t before = SyscallNs(CLOCK_REALTIME);
  struct timeval tv;
  ASSERT_EQ(gtod(&tv, nullptr), 0);
  time_t t_out = 0;
  const time_t t = vtime(&t_out);
  const int64_t after = SyscallNs(CLOCK_REALTIME);
  EXPECT_GE(tv.tv_usec, 0);
  EXPECT_LT(tv.tv_usec, 1000000);
  const int64_t tv_ns = int64_t{tv.tv_sec} * kNs + int64_t{tv.tv_usec} * 1000;
  EXPECT_GE(tv_ns, before - kSlackNs);
  EXPECT_LE(tv_ns, after + kSlackNs);
  EXPECT_EQ(t, t_out);
  EXPECT_GE(int64_t{t}, (before - kSlackNs) / kNs);
  EXPECT_LE(int64_t{t}, (after + kSlackNs) / kNs + 1);
}

TEST_F(VdsoTest, GetcpuNamesAnOnlineCpu) {
  auto getcpu = reinterpret_cast<GetcpuFn>(VdsoSym("__vdso_getcpu"));
  ASSERT_NE(getcpu, nullptr);
  unsigned cpu = ~0u, node = ~0u;
  ASSERT_EQ(getcpu(&cpu, &node, nullptr), 0);
  EXPECT_LT(cpu, static_cast<unsigned>(CPU_SETSIZE));
  EXPECT_LT(node, 1024u);
  EXPECT_EQ(getcpu(nullptr, nullptr, nullptr), 0);  // both optional
}

TEST_F(VdsoTest, MonotonicNeverGoesBackwards) {
  // Long enough to span several of the sentry's time-page updates.
  struct timespec ts;
  ASSERT_EQ(clock_gettime_(CLOCK_MONOTONIC, &ts), 0);
  const int64_t start = ToNs(ts);
  int64_t prev = start;
  uint64_t calls = 0;
  while (prev - start < 400'000'000) {
    ASSERT_EQ(clock_gettime_(CLOCK_MONOTONIC, &ts), 0);
    const int64_t now = ToNs(ts);
    ASSERT_GE(now, prev) << "after " << calls << " calls";
    prev = now;
    ++calls;
  }
  EXPECT_GT(calls, 0u);
}

// For the --strace check (vdso_strace_check.sh): glibc's own
// clock_gettime in a loop, then one getpid as a marker that tracing works.
TEST_F(VdsoTest, GlibcClockLoop) {
  struct timespec ts;
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
  for (int i = 0; i < 100; ++i) {
    struct timeval tv;
    ASSERT_EQ(gettimeofday(&tv, nullptr), 0);
    ASSERT_GT(time(nullptr), 0);
  }
  EXPECT_GT(syscall(SYS_getpid), 0);
}

}  // namespace
