// Process credentials, from credentials(7), setresuid(2), setreuid(2),
// setuid(2), setgroups(2), getgroups(2), capget(2) and capabilities(7).
// Every test changes ids in a forked child: dropping root cannot be undone.
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

struct Caps {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

int CapGet(Caps* c) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  int r = static_cast<int>(syscall(SYS_capget, &hdr, data));
  if (r == 0) {
    c->effective = data[0].effective | (uint64_t{data[1].effective} << 32);
    c->permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
    c->inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  }
  return r;
}

int CapSet(const Caps& c) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = static_cast<uint32_t>(c.effective);
  data[1].effective = static_cast<uint32_t>(c.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(c.permitted);
  data[1].permitted = static_cast<uint32_t>(c.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(c.inheritable);
  data[1].inheritable = static_cast<uint32_t>(c.inheritable >> 32);
  return static_cast<int>(syscall(SYS_capset, &hdr, data));
}

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

bool ResUidIs(uid_t r, uid_t e, uid_t s) {
  uid_t a, b, c;
  return getresuid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}
bool ResGidIs(gid_t r, gid_t e, gid_t s) {
  gid_t a, b, c;
  return getresgid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(CredentialsTest, RootHasAllIdsZero) {
  EXPECT_TRUE(ResUidIs(0, 0, 0));
  EXPECT_TRUE(ResGidIs(0, 0, 0));
  EXPECT_EQ(geteuid(), 0u);
  EXPECT_EQ(getegid(), 0u);
}

TEST_F(CredentialsTest, GetresuidBadPointerIsEfault) {
  uid_t a, b;
  EXPECT_THAT(syscall(SYS_getresuid, &a, &b, BadPointer()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_getresgid, BadPointer(), &a, &b), SyscallFailsWithErrno(EFAULT));
}

TEST_F(CredentialsTest, SetresuidSetsEachIdAndMinusOneKeeps) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setresuid(1000, 2000, 3000) == 0);
    CHILD_CHECK(ResUidIs(1000, 2000, 3000));
    CHILD_CHECK(setresuid(-1, -1, -1) == 0);
    CHILD_CHECK(ResUidIs(1000, 2000, 3000));
    // "An unprivileged process may change its real UID, effective UID, and
    // saved set-user-ID, each to one of: the current real UID, the current
    // effective UID, or the current saved set-user-ID."
    CHILD_CHECK(setresuid(3000, 1000, 2000) == 0);
    CHILD_CHECK(ResUidIs(3000, 1000, 2000));
    errno = 0;
    CHILD_CHECK(setresuid(-1, 4000, -1) == -1 && errno == EPERM);
    CHILD_CHECK(setresuid(0, -1, -1) == -1 && errno == EPERM);
    CHILD_CHECK(ResUidIs(3000, 1000, 2000));
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, SetuidAsRootSetsAllThree) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setuid(1234) == 0);
    CHILD_CHECK(ResUidIs(1234, 1234, 1234));
    errno = 0;
    CHILD_CHECK(setuid(0) == -1 && errno == EPERM);
    CHILD_CHECK(setuid(1234) == 0);  // to the current id is allowed
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, SetuidUnprivilegedSetsOnlyEffective) {
  // "If the calling process is not privileged ... only the effective user
  // ID is set" (to the real or saved set-user-ID).
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setresuid(1000, 2000, 3000) == 0);
    CHILD_CHECK(setuid(3000) == 0);
    CHILD_CHECK(ResUidIs(1000, 3000, 3000));
    CHILD_CHECK(setuid(1000) == 0);
    CHILD_CHECK(ResUidIs(1000, 1000, 3000));
    errno = 0;
    CHILD_CHECK(setuid(2000) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, SeteuidKeepsRootInSavedId) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(seteuid(1000) == 0);
    CHILD_CHECK(ResUidIs(0, 1000, 0));
    CHILD_CHECK(geteuid() == 1000);
    CHILD_CHECK(seteuid(0) == 0);  // back through the saved id
    CHILD_CHECK(ResUidIs(0, 0, 0));
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, SetreuidUpdatesSavedId) {
  // "If the real user ID is set ... or the effective user ID is set to a
  // value not equal to the previous real user ID, the saved set-user-ID
  // will be set to the new effective user ID."
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setreuid(1000, 2000) == 0);
    CHILD_CHECK(ResUidIs(1000, 2000, 2000));
    // Unprivileged: swap real and effective.
    CHILD_CHECK(setreuid(2000, 1000) == 0);
    CHILD_CHECK(ResUidIs(2000, 1000, 1000));
    errno = 0;
    CHILD_CHECK(setreuid(-1, 5000) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, GroupIdsFollowTheSameRules) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setresgid(100, 200, 300) == 0);
    CHILD_CHECK(ResGidIs(100, 200, 300));
    CHILD_CHECK(setgid(555) == 0);  // still root: sets all three
    CHILD_CHECK(ResGidIs(555, 555, 555));
    CHILD_CHECK(setregid(10, 20) == 0);
    CHILD_CHECK(ResGidIs(10, 20, 20));
    CHILD_CHECK(setegid(30) == 0);
    CHILD_CHECK(getegid() == 30);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);  // drop CAP_SETGID
    errno = 0;
    CHILD_CHECK(setgid(40) == -1 && errno == EPERM);
    CHILD_CHECK(setegid(10) == 0);  // the real gid is allowed
    CHILD_CHECK(getegid() == 10);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, SetgroupsAndGetgroups) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    gid_t set[3] = {10, 20, 30};
    CHILD_CHECK(setgroups(3, set) == 0);
    // "If size is zero, list is not modified, but the total number of
    // supplementary group IDs for the process is returned."
    CHILD_CHECK(getgroups(0, nullptr) == 3);
    gid_t got[8] = {};
    CHILD_CHECK(getgroups(8, got) == 3);
    CHILD_CHECK(got[0] == 10 && got[1] == 20 && got[2] == 30);
    errno = 0;
    CHILD_CHECK(getgroups(2, got) == -1 && errno == EINVAL);
    errno = 0;
    CHILD_CHECK(getgroups(8, reinterpret_cast<gid_t*>(BadPointer())) == -1 && errno == EFAULT);
    CHILD_CHECK(setgroups(0, nullptr) == 0);
    CHILD_CHECK(getgroups(0, nullptr) == 0);
    errno = 0;
    CHILD_CHECK(syscall(SYS_setgroups, 70000, set) == -1 && errno == EINVAL);
    CHILD_CHECK(setuid(1000) == 0);
    errno = 0;
    CHILD_CHECK(setgroups(3, set) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, SetfsuidReturnsPreviousValue) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setfsuid(1000) == 0);
    CHILD_CHECK(setfsuid(-1) == 1000);  // invalid: only reports
    CHILD_CHECK(setfsuid(0) == 1000);
    CHILD_CHECK(setfsgid(77) == 0);
    CHILD_CHECK(setfsgid(-1) == 77);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, CapgetVersionProbe) {
  // "If the version is not supported, capget() ... fails with EINVAL and
  // sets header->version to the kernel's preferred value."
  __user_cap_data_struct data[2];
  __user_cap_header_struct hdr{0x1234, 0};
  EXPECT_THAT(syscall(SYS_capget, &hdr, data), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(hdr.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_3));
  // With a null data pointer the call is only a version probe: it succeeds
  // and still reports the preferred version.
  __user_cap_header_struct probe{0x1234, 0};
  EXPECT_THAT(syscall(SYS_capget, &probe, nullptr), SyscallSucceeds());
  EXPECT_EQ(probe.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_3));
  __user_cap_header_struct ok{_LINUX_CAPABILITY_VERSION_3, 0};
  EXPECT_THAT(syscall(SYS_capget, &ok, nullptr), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_capget, BadPointer(), data), SyscallFailsWithErrno(EFAULT));
  __user_cap_header_struct other{_LINUX_CAPABILITY_VERSION_3, 999999};
  EXPECT_THAT(syscall(SYS_capget, &other, data), SyscallFailsWithErrno(ESRCH));
}

TEST_F(CredentialsTest, RootHasSetuidCapability) {
  Caps c;
  ASSERT_THAT(CapGet(&c), SyscallSucceeds());
  EXPECT_TRUE(c.effective & Bit(CAP_SETUID));
  EXPECT_TRUE(c.effective & Bit(CAP_CHOWN));
  EXPECT_TRUE(c.permitted & Bit(CAP_SETUID));
  EXPECT_EQ(c.effective & ~c.permitted, 0u) << "effective must be a subset of permitted";
}

TEST_F(CredentialsTest, DroppingAllRootIdsClearsCapabilities) {
  // capabilities(7): "If one or more of the real, effective, or saved set
  // user IDs was previously 0, and as a result of the UID changes all of
  // these IDs have a nonzero value, then all capabilities are cleared from
  // the permitted, effective, and ambient capability sets."
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    Caps c;
    CHILD_CHECK(CapGet(&c) == 0);
    CHILD_CHECK(c.effective == 0 && c.permitted == 0);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, SeteuidClearsOnlyEffectiveCapabilities) {
  // "If the effective user ID is changed from 0 to nonzero, then all
  // capabilities are cleared from the effective set"; going back to 0
  // copies the permitted set into the effective set.
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    Caps before;
    CHILD_CHECK(CapGet(&before) == 0);
    CHILD_CHECK(seteuid(1000) == 0);
    Caps c;
    CHILD_CHECK(CapGet(&c) == 0);
    CHILD_CHECK(c.effective == 0);
    CHILD_CHECK(c.permitted == before.permitted);
    CHILD_CHECK(seteuid(0) == 0);
    CHILD_CHECK(CapGet(&c) == 0);
    CHILD_CHECK(c.effective == before.permitted);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, CapsetDropsEffectiveCapability) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    Caps c;
    CHILD_CHECK(CapGet(&c) == 0);
    Caps lower = c;
    lower.effective &= ~Bit(CAP_SETUID);
    CHILD_CHECK(CapSet(lower) == 0);
    Caps now;
    CHILD_CHECK(CapGet(&now) == 0);
    CHILD_CHECK(!(now.effective & Bit(CAP_SETUID)));
    CHILD_CHECK(now.permitted & Bit(CAP_SETUID));
    // Without CAP_SETUID in the effective set, root may not become 1234.
    errno = 0;
    CHILD_CHECK(setresuid(1234, 1234, 1234) == -1 && errno == EPERM);
    // Raising it again from the permitted set is allowed.
    CHILD_CHECK(CapSet(c) == 0);
    CHILD_CHECK(setresuid(1234, 1234, 1234) == 0);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, CapsetCannotRaiseBeyondPermitted) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    Caps c;
    CHILD_CHECK(CapGet(&c) == 0);
    Caps dropped = c;
    dropped.permitted &= ~Bit(CAP_CHOWN);
    dropped.effective &= ~Bit(CAP_CHOWN);
    CHILD_CHECK(CapSet(dropped) == 0);
    // "EPERM An attempt was made to add a capability to the permitted set"
    errno = 0;
    CHILD_CHECK(CapSet(c) == -1 && errno == EPERM);
    // ... "or to set a capability in the effective set that is not in the
    // permitted set".
    Caps eff = dropped;
    eff.effective |= Bit(CAP_CHOWN);
    errno = 0;
    CHILD_CHECK(CapSet(eff) == -1 && errno == EPERM);
    return 0;
  }), 0));
}

TEST_F(CredentialsTest, ProcStatusShowsIds) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setresgid(11, 22, 33) == 0);
    CHILD_CHECK(setresuid(1000, 2000, 3000) == 0);
    std::string s = ReadFileOrDie("/proc/self/status");
    CHILD_CHECK(s.find("Uid:\t1000\t2000\t3000\t2000\n") != std::string::npos);
    CHILD_CHECK(s.find("Gid:\t11\t22\t33\t22\n") != std::string::npos);
    return 0;
  }), 0));
}

}  // namespace
}  // namespace palisade::testing
