// flock(2): whole-file advisory locks owned by the open file description.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

void Nop(int) {}

class FlockTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.CreateFile("f", "data"); }
  FileDescriptor Open(int flags = O_RDWR) {
    int fd = open(path_.c_str(), flags);
    if (fd < 0) DieErrno("open");
    return FileDescriptor(fd);
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(FlockTest, ExclusiveLockExcludesOtherOpenFileDescriptions) {
  // Even within one process: "If a process uses open(2) (or similar) to
  // obtain more than one descriptor for the same file, these descriptors
  // are treated independently by flock()."
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  EXPECT_THAT(flock(b.get(), LOCK_SH | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  ASSERT_THAT(flock(a.get(), LOCK_UN), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

TEST_F(FlockTest, SharedLocksCoexist) {
  FileDescriptor a = Open(O_RDONLY), b = Open(O_RDONLY), c = Open(O_WRONLY);
  ASSERT_THAT(flock(a.get(), LOCK_SH), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_SH | LOCK_NB), SyscallSucceeds());
  EXPECT_THAT(flock(c.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
}

TEST_F(FlockTest, LockModeDoesNotDependOnAccessMode) {
  // Unlike fcntl locks, an exclusive flock needs no write access.
  FileDescriptor ro = Open(O_RDONLY);
  EXPECT_THAT(flock(ro.get(), LOCK_EX), SyscallSucceeds());
}

TEST_F(FlockTest, ConversionBetweenSharedAndExclusive) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(flock(a.get(), LOCK_SH), SyscallSucceeds());
  ASSERT_THAT(flock(a.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_SH | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  ASSERT_THAT(flock(a.get(), LOCK_SH), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_SH | LOCK_NB), SyscallSucceeds());
  // Upgrading while another holds a shared lock fails.
  EXPECT_THAT(flock(a.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
}

TEST_F(FlockTest, DuplicatesAndForkShareTheLock) {
  FileDescriptor a = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  int d = dup(a.get());
  EXPECT_THAT(flock(d, LOCK_EX | LOCK_NB), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    // The inherited descriptor refers to the same lock.
    CHILD_CHECK(flock(a.get(), LOCK_EX | LOCK_NB) == 0);
    int own = open(path_.c_str(), O_RDWR);
    errno = 0;
    CHILD_CHECK(flock(own, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);
    return 0;
  }), 0));
  // Closing one duplicate keeps the lock; closing the last drops it.
  close(d);
  FileDescriptor b = Open();
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  a.reset();
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

TEST_F(FlockTest, UnlockByChildReleasesSharedDescription) {
  FileDescriptor a = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(flock(a.get(), LOCK_UN) == 0);
    return 0;
  }), 0));
  FileDescriptor b = Open();
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

TEST_F(FlockTest, BlockingLockWaitsForRelease) {
  FileDescriptor a = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    close(p[0]);
    int own = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(flock(own, LOCK_EX) == 0);  // blocks until the parent unlocks
    CHILD_CHECK(write(p[1], "g", 1) == 1);
    return 0;
  });
  ASSERT_GT(pid, 0);
  close(p[1]);
  usleep(100000);
  // Still blocked: the pipe has nothing yet.
  ASSERT_THAT(fcntl(p[0], F_SETFL, O_NONBLOCK), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(p[0], &c, 1), SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(fcntl(p[0], F_SETFL, 0), SyscallSucceeds());
  ASSERT_THAT(flock(a.get(), LOCK_UN), SyscallSucceeds());
  EXPECT_THAT(read(p[0], &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  close(p[0]);
}

TEST_F(FlockTest, BlockingLockInterruptedBySignalIsEintr) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  ScopedSigaction act(SIGALRM, Nop, 0);
  SetRealTimer(100000, 0);
  EXPECT_THAT(flock(b.get(), LOCK_EX), SyscallFailsWithErrno(EINTR));
  SetRealTimer(0, 0);
}

TEST_F(FlockTest, IndependentOfFcntlLocks) {
  // On Linux, flock() and fcntl() locks do not interact.
  FileDescriptor a = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    int own = open(path_.c_str(), O_RDWR);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    CHILD_CHECK(fcntl(own, F_SETLK, &fl) == 0);
    return 0;
  }), 0));
}

TEST_F(FlockTest, WorksOnDirectories) {
  int d1 = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  int d2 = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(d1, 0);
  ASSERT_GE(d2, 0);
  EXPECT_THAT(flock(d1, LOCK_EX | LOCK_NB), SyscallSucceeds());
  EXPECT_THAT(flock(d2, LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  close(d1);
  close(d2);
}

TEST_F(FlockTest, Errors) {
  FileDescriptor a = Open();
  EXPECT_THAT(flock(-1, LOCK_EX), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(flock(1000, LOCK_EX), SyscallFailsWithErrno(EBADF));
  // "EINVAL operation is invalid."
  EXPECT_THAT(flock(a.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(flock(a.get(), LOCK_NB), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(flock(a.get(), 77), SyscallFailsWithErrno(EINVAL));
  // Unlocking without a lock is fine.
  EXPECT_THAT(flock(a.get(), LOCK_UN), SyscallSucceeds());
  EXPECT_THAT(flock(a.get(), LOCK_UN | LOCK_NB), SyscallSucceeds());
}

}  // namespace
}  // namespace palisade::testing
