// Unit test of the syscall test harness itself: the matchers must reject
// what they should, or every syscall test built on them could pass vacuously.
#include "tests/syscalls/util/syscall_matchers.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;
using ::testing::Not;

// Evaluates `m` against `v` with errno set to `err` just before matching, as
// it is right after a real call.
template <typename M, typename T>
bool MatchesWithErrno(const M& m, T v, int err, std::string* explanation = nullptr) {
  ::testing::Matcher<T> matcher = m;
  ::testing::StringMatchResultListener l;
  errno = err;
  bool ok = matcher.MatchAndExplain(v, &l);
  if (explanation != nullptr) *explanation = l.str();
  return ok;
}

TEST(SyscallMatchersTest, SucceedsRejectsMinusOneAndNamesErrno) {
  std::string why;
  EXPECT_TRUE(MatchesWithErrno(SyscallSucceeds(), 0, 0));
  EXPECT_TRUE(MatchesWithErrno(SyscallSucceeds(), 5L, ENOENT));
  EXPECT_FALSE(MatchesWithErrno(SyscallSucceeds(), -1, ENOENT, &why));
  EXPECT_EQ(why, "failed with ENOENT (No such file or directory)");
  EXPECT_FALSE(MatchesWithErrno(SyscallSucceeds(), static_cast<ssize_t>(-1), EBADF));
}

TEST(SyscallMatchersTest, SucceedsHandlesPointers) {
  int x;
  EXPECT_TRUE(MatchesWithErrno(SyscallSucceeds(), static_cast<void*>(&x), 0));
  EXPECT_FALSE(MatchesWithErrno(SyscallSucceeds(), MAP_FAILED, ENOMEM));
}

TEST(SyscallMatchersTest, SucceedsWithValueChecksValue) {
  std::string why;
  EXPECT_TRUE(MatchesWithErrno(SyscallSucceedsWithValue(3), 3, 0));
  EXPECT_FALSE(MatchesWithErrno(SyscallSucceedsWithValue(3), 4, 0, &why));
  EXPECT_THAT(why, ::testing::HasSubstr("succeeded with value 4"));
  EXPECT_FALSE(MatchesWithErrno(SyscallSucceedsWithValue(-1), -1, EINVAL));
  EXPECT_TRUE(MatchesWithErrno(SyscallSucceedsWithValue(::testing::Gt(2)), 7L, 0));
}

TEST(SyscallMatchersTest, FailsWithErrnoChecksBoth) {
  std::string why;
  EXPECT_TRUE(MatchesWithErrno(SyscallFailsWithErrno(EBADF), -1, EBADF));
  EXPECT_FALSE(MatchesWithErrno(SyscallFailsWithErrno(EBADF), -1, EINVAL, &why));
  EXPECT_EQ(why, "failed with EINVAL (Invalid argument)");
  EXPECT_FALSE(MatchesWithErrno(SyscallFailsWithErrno(EBADF), 0, EBADF, &why));
  EXPECT_EQ(why, "succeeded with value 0");
  EXPECT_TRUE(MatchesWithErrno(SyscallFailsWithErrno(AnyOf(ENOTEMPTY, EEXIST)), -1, EEXIST));
  EXPECT_FALSE(MatchesWithErrno(SyscallFailsWithErrno(AnyOf(ENOTEMPTY, EEXIST)), -1, ENOENT));
  EXPECT_TRUE(MatchesWithErrno(SyscallFails(), -1, EPERM));
  EXPECT_FALSE(MatchesWithErrno(SyscallFails(), 1, EPERM));
  EXPECT_TRUE(MatchesWithErrno(Not(SyscallSucceeds()), -1, EPERM));
}

TEST(SyscallMatchersTest, DescriptionsNameTheErrno) {
  ::testing::Matcher<int> m = SyscallFailsWithErrno(ENOENT);
  EXPECT_EQ(::testing::DescribeMatcher<int>(m),
            "syscall fails with an errno that is ENOENT (No such file or directory)");
}

TEST(SyscallMatchersTest, RealCallErrnoIsSeen) {
  EXPECT_THAT(close(-1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(-1, nullptr, 0), Not(SyscallFailsWithErrno(EINVAL)));
}

TEST(HarnessTest, ErrnoNameOfUnknownValue) {
  EXPECT_EQ(ErrnoName(99999), "errno 99999");
}

TEST(HarnessTest, TempDirIsCreatedAndRemoved) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    std::string sub = dir.CreateDir("sub", 0);  // Even an unreadable one.
    dir.CreateFile("sub2", "x");
    EXPECT_EQ(access(path.c_str(), W_OK), 0);
  }
  EXPECT_EQ(access(path.c_str(), F_OK), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST(HarnessTest, ChildStatusHelpers) {
  EXPECT_TRUE(ExitedWith(RunInChild([] { return 3; }), 3));
  EXPECT_FALSE(ExitedWith(RunInChild([] { return 4; }), 3));
  int killed = RunInChild([] {
    raise(SIGKILL);
    return 0;
  });
  EXPECT_TRUE(KilledBy(killed, SIGKILL));
  EXPECT_FALSE(ExitedWith(killed, 0));
  EXPECT_EQ(DescribeWaitStatus(killed), "killed by signal 9 (Killed)");
  int failed_check = RunInChild([] {
    CHILD_CHECK(1 + 1 == 3);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(failed_check, 1));
}

TEST(HarnessTest, BadPointerFaults) {
  int fds[2];
  ASSERT_THAT(pipe2(fds, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(fds[0], BadPointer(), 0), SyscallSucceeds());  // 0 bytes: no access.
  EXPECT_THAT(write(fds[1], BadPointer(), 1), SyscallFailsWithErrno(EFAULT));
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace palisade::testing
