// System information: uname(2), sysinfo(2), getrandom(2), gethostname(2),
// sethostname(2) errors and the /proc files that must agree with them
// (/proc/meminfo, /proc/uptime, /proc/loadavg, /proc/sys/kernel/*).
#include <errno.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(SystemInfoTest, UnameAgreesWithProcSysKernel) {
  struct utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_STREQ(u.sysname, "Linux");
  EXPECT_STREQ(u.machine, "x86_64");
  EXPECT_GT(strlen(u.release), 0u);
  EXPECT_EQ(Trim(ReadFileOrDie("/proc/sys/kernel/ostype")), u.sysname);
  EXPECT_EQ(Trim(ReadFileOrDie("/proc/sys/kernel/osrelease")), u.release);
  EXPECT_EQ(Trim(ReadFileOrDie("/proc/sys/kernel/hostname")), u.nodename);
  char host[256];
  ASSERT_THAT(gethostname(host, sizeof(host)), SyscallSucceeds());
  EXPECT_STREQ(host, u.nodename);
  EXPECT_THAT(syscall(SYS_uname, BadPointer()), SyscallFailsWithErrno(EFAULT));
}

TEST(SystemInfoTest, HostnameErrors) {
  char tiny[1];
  // glibc's gethostname reports ENAMETOOLONG for a too-small buffer.
  EXPECT_THAT(gethostname(tiny, sizeof(tiny)), SyscallFailsWithErrno(ENAMETOOLONG));
  std::string too_long(65, 'h');
  EXPECT_THAT(sethostname(too_long.data(), too_long.size()), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sethostname, "x", -1L), SyscallFailsWithErrno(EINVAL));
}

TEST(SystemInfoTest, SysinfoIsConsistent) {
  struct sysinfo si;
  ASSERT_THAT(sysinfo(&si), SyscallSucceeds());
  EXPECT_GT(si.uptime, 0);
  EXPECT_GT(si.totalram, 0u);
  EXPECT_LE(si.freeram, si.totalram);
  EXPECT_GE(si.procs, 1);
  EXPECT_GE(si.mem_unit, 1u);
  EXPECT_THAT(syscall(SYS_sysinfo, BadPointer()), SyscallFailsWithErrno(EFAULT));
  // /proc/uptime's first field is the same clock.
  double up = 0;
  std::istringstream(ReadFileOrDie("/proc/uptime")) >> up;
  EXPECT_NEAR(up, static_cast<double>(si.uptime), 5.0);
  // /proc/meminfo's MemTotal matches totalram.
  std::string mem = ReadFileOrDie("/proc/meminfo");
  size_t at = mem.find("MemTotal:");
  ASSERT_NE(at, std::string::npos);
  unsigned long kb = std::stoul(mem.substr(at + 9));
  EXPECT_NEAR(static_cast<double>(kb) * 1024, static_cast<double>(si.totalram) * si.mem_unit,
              static_cast<double>(si.totalram) * si.mem_unit * 0.01 + 4096);
}

TEST(SystemInfoTest, LoadavgHasFiveFields) {
  std::istringstream in(ReadFileOrDie("/proc/loadavg"));
  double l1, l5, l15;
  std::string runnable;
  long last_pid;
  ASSERT_TRUE(static_cast<bool>(in >> l1 >> l5 >> l15 >> runnable >> last_pid));
  EXPECT_GE(l1, 0);
  EXPECT_NE(runnable.find('/'), std::string::npos);
  EXPECT_GT(last_pid, 0);
}

TEST(SystemInfoTest, GetrandomFillsBuffer) {
  unsigned char a[64] = {}, b[64] = {};
  ASSERT_THAT(getrandom(a, sizeof(a), 0), SyscallSucceedsWithValue(64));
  ASSERT_THAT(getrandom(b, sizeof(b), GRND_NONBLOCK), SyscallSucceedsWithValue(64));
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
  std::set<unsigned char> distinct(a, a + sizeof(a));
  EXPECT_GT(distinct.size(), 16u);
  EXPECT_THAT(getrandom(a, 0, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(getrandom(a, sizeof(a), GRND_RANDOM), SyscallSucceeds());
  EXPECT_THAT(getrandom(a, sizeof(a), GRND_RANDOM | GRND_NONBLOCK), AnyOf(SyscallSucceeds(), SyscallFailsWithErrno(EAGAIN)));
}

TEST(SystemInfoTest, GetrandomErrors) {
  unsigned char a[16];
  // "EINVAL An invalid flag was specified in flags."
  EXPECT_THAT(getrandom(a, sizeof(a), 0x80), SyscallFailsWithErrno(EINVAL));
  // GRND_INSECURE and GRND_RANDOM together are invalid.
  EXPECT_THAT(getrandom(a, sizeof(a), 0x4 | GRND_RANDOM), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getrandom(BadPointer(), 16, 0), SyscallFailsWithErrno(EFAULT));
}

TEST(SystemInfoTest, LargeGetrandomMayBeShortButNotEmpty) {
  std::string buf(64 << 20, '\0');
  ssize_t n = getrandom(buf.data(), buf.size(), 0);
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_GT(n, 0);
  // "reads of up to 256 bytes will always return as many bytes as requested"
  EXPECT_LE(static_cast<size_t>(n), buf.size());
}

TEST(SystemInfoTest, SysconfValuesAreSane) {
  EXPECT_EQ(sysconf(_SC_PAGESIZE), 4096);
  EXPECT_GE(sysconf(_SC_NPROCESSORS_ONLN), 1);
  EXPECT_GE(sysconf(_SC_CLK_TCK), 1);
  EXPECT_GE(sysconf(_SC_OPEN_MAX), 1);
  EXPECT_GE(get_nprocs(), 1);
}

}  // namespace
}  // namespace palisade::testing
