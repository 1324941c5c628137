// The capability sets of capabilities(7): permitted, effective,
// inheritable, bounding and ambient; how uid changes (with and without
// SECBIT_KEEP_CAPS) and execve transform them; capset(2)'s rules; prctl's
// PR_CAPBSET_*, PR_CAP_AMBIENT, PR_*_KEEPCAPS and PR_*_SECUREBITS.
// Every test changes its sets in a forked child.
//
// The exec targets are this binary itself: main() recognises
// "--caps-child EFF PRM INH AMB", which exits 0 if its own sets are those
// (hex), 1 otherwise (printing what it has).
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

constexpr char kChildFlag[] = "--caps-child";

struct Caps {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

int CapGet(Caps* c, pid_t pid = 0, uint32_t version = _LINUX_CAPABILITY_VERSION_3) {
  __user_cap_header_struct hdr{version, pid};
  __user_cap_data_struct data[2]{};
  int r = static_cast<int>(syscall(SYS_capget, &hdr, data));
  if (r == 0) {
    c->effective = data[0].effective | (uint64_t{data[1].effective} << 32);
    c->permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
    c->inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  }
  return r;
}

int CapSet(const Caps& c, uint32_t version = _LINUX_CAPABILITY_VERSION_3) {
  __user_cap_header_struct hdr{version, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(c.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(c.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(c.inheritable >> (32 * i));
  }
  return static_cast<int>(syscall(SYS_capset, &hdr, data));
}

Caps Current() {
  Caps c;
  if (CapGet(&c) != 0) DieErrno("capget");
  return c;
}

uint64_t Ambient() {
  uint64_t a = 0;
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) a |= uint64_t{1} << cap;
  }
  return a;
}

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

std::string Hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Runs this binary expecting the given sets after execve; its exit status.
int ExecExpecting(uint64_t eff, uint64_t prm, uint64_t inh, uint64_t amb) {
  std::string e = Hex(eff), p = Hex(prm), i = Hex(inh), a = Hex(amb);
  pid_t pid = fork();
  if (pid == 0) {
    execl("/proc/self/exe", "capabilities_test", kChildFlag, e.c_str(), p.c_str(), i.c_str(), a.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int ChildMain(int argc, char** argv) {
  if (argc < 6) return 2;
  Caps c = Current();
  uint64_t want[4];
  for (int i = 0; i < 4; i++) want[i] = strtoull(argv[2 + i], nullptr, 16);
  uint64_t amb = Ambient();
  if (c.effective == want[0] && c.permitted == want[1] && c.inheritable == want[2] && amb == want[3]) return 0;
  fprintf(stderr, "after exec: eff %llx prm %llx inh %llx amb %llx\n",
          static_cast<unsigned long long>(c.effective), static_cast<unsigned long long>(c.permitted),
          static_cast<unsigned long long>(c.inheritable), static_cast<unsigned long long>(amb));
  return 1;
}

class CapabilitiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0) GTEST_SKIP() << "needs root";
    full_ = Current();
    if (!(full_.effective & Bit(CAP_SETPCAP)) || !(full_.effective & Bit(CAP_SETUID))) {
      GTEST_SKIP() << "needs CAP_SETPCAP and CAP_SETUID";
    }
  }
  Caps full_;
};

TEST_F(CapabilitiesTest, RootStartsWithEffectiveEqualToPermitted) {
  EXPECT_EQ(full_.effective, full_.permitted);
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
    if (full_.permitted & Bit(cap)) {
      EXPECT_EQ(prctl(PR_CAPBSET_READ, cap, 0, 0, 0), 1) << "permitted cap " << cap << " not in the bounding set";
    }
  }
}

TEST_F(CapabilitiesTest, ProcStatusShowsTheSets) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    Caps c = full_;
    c.inheritable = Bit(CAP_KILL);
    c.effective &= ~Bit(CAP_CHOWN);
    CHILD_CHECK(CapSet(c) == 0);
    std::string s = ReadFileOrDie("/proc/self/status");
    char line[64];
    snprintf(line, sizeof(line), "CapInh:\t%016llx\n", static_cast<unsigned long long>(c.inheritable));
    CHILD_CHECK(s.find(line) != std::string::npos);
    snprintf(line, sizeof(line), "CapPrm:\t%016llx\n", static_cast<unsigned long long>(c.permitted));
    CHILD_CHECK(s.find(line) != std::string::npos);
    snprintf(line, sizeof(line), "CapEff:\t%016llx\n", static_cast<unsigned long long>(c.effective));
    CHILD_CHECK(s.find(line) != std::string::npos);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, CapgetOfAnotherProcess) {
  int ready[2], done[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(pipe(done), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    close(done[1]);
    Caps c = full_;
    c.effective = Bit(CAP_KILL);
    c.permitted = Bit(CAP_KILL) | Bit(CAP_CHOWN);
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(write(ready[1], "r", 1) == 1);
    char ch;
    (void)read(done[0], &ch, 1);  // until the parent closes its end
    return 0;
  });
  ASSERT_GT(pid, 0);
  close(done[0]);
  char ch;
  ASSERT_THAT(read(ready[0], &ch, 1), SyscallSucceedsWithValue(1));
  Caps c;
  ASSERT_THAT(CapGet(&c, pid), SyscallSucceeds());
  EXPECT_EQ(c.effective, Bit(CAP_KILL));
  EXPECT_EQ(c.permitted, Bit(CAP_KILL) | Bit(CAP_CHOWN));
  EXPECT_EQ(c.inheritable, 0u);
  __user_cap_header_struct neg{_LINUX_CAPABILITY_VERSION_3, -5};
  __user_cap_data_struct data[2];
  EXPECT_THAT(syscall(SYS_capget, &neg, data), SyscallFailsWithErrno(EINVAL));
  close(done[1]);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  close(ready[0]);
  close(ready[1]);
}

TEST_F(CapabilitiesTest, CapsetRules) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    // Another process's sets cannot be changed.
    __user_cap_header_struct other{_LINUX_CAPABILITY_VERSION_3, getppid()};
    __user_cap_data_struct data[2]{};
    errno = 0;
    CHILD_CHECK(syscall(SYS_capset, &other, data) == -1 && errno == EPERM);
    // An unknown version is EINVAL and reports the preferred one.
    __user_cap_header_struct bad{0x1234, 0};
    errno = 0;
    CHILD_CHECK(syscall(SYS_capset, &bad, data) == -1 && errno == EINVAL);
    CHILD_CHECK(bad.version == _LINUX_CAPABILITY_VERSION_3);
    // Without CAP_SETPCAP the inheritable set gains only permitted caps.
    Caps c = full_;
    c.permitted &= ~Bit(CAP_CHOWN);
    c.effective = c.permitted & ~Bit(CAP_SETPCAP);
    CHILD_CHECK(CapSet(c) == 0);
    Caps inh = c;
    inh.inheritable = Bit(CAP_KILL);
    CHILD_CHECK(CapSet(inh) == 0);
    inh.inheritable |= Bit(CAP_CHOWN);
    errno = 0;
    CHILD_CHECK(CapSet(inh) == -1 && errno == EPERM);
    // Dropping from the inheritable set is always allowed.
    inh.inheritable = 0;
    CHILD_CHECK(CapSet(inh) == 0);
    CHILD_CHECK(Current().inheritable == 0);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, InheritableOutsideBoundingSetIsRefused) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0) == 0);
    // Still permitted and effective: the bounding set only limits what
    // later execs and the inheritable set may gain.
    CHILD_CHECK(Current().effective & Bit(CAP_KILL));
    Caps c = Current();
    c.inheritable = Bit(CAP_KILL);
    errno = 0;
    CHILD_CHECK(CapSet(c) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, CapbsetDropNeedsSetpcap) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    errno = 0;
    CHILD_CHECK(prctl(PR_CAPBSET_DROP, CAP_LAST_CAP + 1, 0, 0, 0) == -1 && errno == EINVAL);
    Caps c = full_;
    c.effective &= ~Bit(CAP_SETPCAP);
    CHILD_CHECK(CapSet(c) == 0);
    errno = 0;
    CHILD_CHECK(prctl(PR_CAPBSET_DROP, CAP_CHOWN, 0, 0, 0) == -1 && errno == EPERM);
    CHILD_CHECK(prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) == 1);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, AmbientSet) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    // "The ambient capability set obeys the invariant that no capability
    // can ever be ambient if it is not both permitted and inheritable."
    errno = 0;
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) == -1 && errno == EPERM);
    Caps c = full_;
    c.inheritable = Bit(CAP_KILL) | Bit(CAP_CHOWN);
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) == 1);
    CHILD_CHECK(Ambient() == (Bit(CAP_KILL) | Bit(CAP_CHOWN)));
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_CHOWN, 0, 0) == 0);
    CHILD_CHECK(Ambient() == Bit(CAP_KILL));
    errno = 0;
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_LAST_CAP + 1, 0, 0) == -1 && errno == EINVAL);
    errno = 0;
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0) == -1 && errno == EINVAL);
    errno = 0;
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, 99, CAP_KILL, 0, 0) == -1 && errno == EINVAL);
    // Dropping it from the inheritable set drops it from the ambient set.
    c.inheritable = Bit(CAP_CHOWN);
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(Ambient() == 0);
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0);
    CHILD_CHECK(Ambient() == 0);
    // SECBIT_NO_CAP_AMBIENT_RAISE forbids raising.
    CHILD_CHECK(prctl(PR_SET_SECUREBITS, SECBIT_NO_CAP_AMBIENT_RAISE, 0, 0, 0) == 0);
    errno = 0;
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, KeepcapsKeepsPermittedAcrossUidChange) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    // "the effective set is cleared" but the permitted set is kept.
    Caps c = Current();
    CHILD_CHECK(c.effective == 0);
    CHILD_CHECK(c.permitted == full_.permitted);
    // So the caps can be made effective again, and used.
    c.effective = Bit(CAP_SETUID);
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(setresuid(2000, 2000, 2000) == 0);
    CHILD_CHECK(getuid() == 2000);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, UidChangeClearsAmbientEvenWithKeepcaps) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    Caps c = full_;
    c.inheritable = Bit(CAP_KILL);
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    CHILD_CHECK(Ambient() == 0);
    CHILD_CHECK(Current().permitted == full_.permitted);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, SetfsuidMovesFileSystemCapabilities) {
  // "If the filesystem user ID is changed from 0 to nonzero, then [CAP_CHOWN,
  // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, ...] are
  // cleared from the effective set"; back to 0 restores the permitted ones.
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(setfsuid(1000) == 0);
    Caps c = Current();
    CHILD_CHECK(!(c.effective & Bit(CAP_CHOWN)));
    CHILD_CHECK(!(c.effective & Bit(CAP_DAC_OVERRIDE)));
    CHILD_CHECK(!(c.effective & Bit(CAP_FOWNER)));
    CHILD_CHECK(c.effective & Bit(CAP_SETUID));
    CHILD_CHECK(c.effective & Bit(CAP_KILL));
    CHILD_CHECK(c.permitted == full_.permitted);
    CHILD_CHECK(setfsuid(0) == 1000);
    CHILD_CHECK(Current().effective == full_.effective);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, NoSetuidFixupKeepsEffectiveSet) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) == SECBIT_NO_SETUID_FIXUP);
    CHILD_CHECK(seteuid(1000) == 0);
    CHILD_CHECK(Current().effective == full_.effective);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, SecurebitsLocks) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
    // "EPERM option is PR_SET_KEEPCAPS, and the caller's
    // SECBIT_KEEP_CAPS_LOCKED flag is set".
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1 && errno == EPERM);
    // A lock cannot be released, nor a locked bit changed.
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, 0, 0, 0) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_SECUREBITS, 1u << 20, 0, 0, 0) == -1 && errno == EPERM);
    // Without CAP_SETPCAP nothing may change.
    Caps c = full_;
    c.effective &= ~Bit(CAP_SETPCAP);
    CHILD_CHECK(CapSet(c) == 0);
    errno = 0;
    CHILD_CHECK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT, 0, 0, 0) == -1 &&
                errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, KeepcapsIsClearedByExecve) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
    pid_t pid = fork();
    if (pid == 0) {
      execl("/proc/self/exe", "capabilities_test", "--keepcaps-child", static_cast<char*>(nullptr));
      _exit(127);
    }
    int st;
    CHILD_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, ExecAsRootRefillsPermittedFromBoundingSet) {
  // Root rules: "the file inheritable and permitted sets are notionally
  // all ones", so P' = bounding | inheritable and E' = P'.
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    Caps c = full_;
    c.permitted &= ~Bit(CAP_CHOWN);
    c.effective &= ~(Bit(CAP_CHOWN) | Bit(CAP_KILL));
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) == 0);
    const uint64_t want = full_.permitted & ~Bit(CAP_NET_RAW);
    CHILD_CHECK(ExecExpecting(want, want, 0, 0) == 0);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, ExecAsNonRootDropsEverythingButAmbient) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    Caps c = Current();
    CHILD_CHECK(c.permitted == full_.permitted);
    // Permitted but not ambient: gone after exec.
    CHILD_CHECK(ExecExpecting(0, 0, 0, 0) == 0);
    // Ambient: "the ambient set is added to the permitted set and
    // assigned to the effective set" of a program that is not privileged.
    c.inheritable = Bit(CAP_NET_BIND_SERVICE) | Bit(CAP_KILL);
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) == 0);
    const uint64_t amb = Bit(CAP_NET_BIND_SERVICE);
    CHILD_CHECK(ExecExpecting(amb, amb, c.inheritable, amb) == 0);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, ExecWithOnlyRealUidRootGetsNoEffectiveCaps) {
  // "If the real user ID is 0 but the effective is not, the file effective
  // bit is not set": P' is full, E' empty.
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(setresuid(0, 1000, 1000) == 0);
    CHILD_CHECK(ExecExpecting(0, full_.permitted, 0, 0) == 0);
    return 0;
  }), 0));
}

TEST_F(CapabilitiesTest, Version1SetsOnlyTheLowerWord) {
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    // A version-1 capset has one 32-bit word per set: the upper
    // capabilities (CAP_MAC_OVERRIDE and above) are dropped.
    Caps c = full_;
    CHILD_CHECK(CapSet(c, _LINUX_CAPABILITY_VERSION_1) == 0);
    Caps now = Current();
    CHILD_CHECK(now.permitted == (full_.permitted & 0xffffffffull));
    CHILD_CHECK(now.effective == (full_.effective & 0xffffffffull));
    Caps v1;
    CHILD_CHECK(CapGet(&v1, 0, _LINUX_CAPABILITY_VERSION_1) == 0);
    CHILD_CHECK(v1.permitted == (full_.permitted & 0xffffffffull));
    return 0;
  }), 0));
}

}  // namespace
}  // namespace palisade::testing

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], palisade::testing::kChildFlag) == 0) {
    return palisade::testing::ChildMain(argc, argv);
  }
  if (argc > 1 && std::strcmp(argv[1], "--keepcaps-child") == 0) {
    int k = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
    if (k != 0) fprintf(stderr, "PR_GET_KEEPCAPS after exec: %d\n", k);
    return k == 0 ? 0 : 1;
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
