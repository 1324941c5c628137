// fcntl(2) record locks: "Advisory record locking" (F_SETLK, F_SETLKW,
// F_GETLK) between processes, and "Open file description locks" (F_OFD_*).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
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

struct flock Lk(short type, off_t start, off_t len, short whence = SEEK_SET) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = whence;
  fl.l_start = start;
  fl.l_len = len;
  return fl;
}

int SetLk(int fd, short type, off_t start, off_t len, int cmd = F_SETLK) {
  struct flock fl = Lk(type, start, len);
  return fcntl(fd, cmd, &fl);
}

// True when this process may not take `type` on [start, start+len).
bool Blocked(int fd, short type, off_t start, off_t len) {
  struct flock fl = Lk(type, start, len);
  return fcntl(fd, F_SETLK, &fl) == -1 && (errno == EAGAIN || errno == EACCES);
}

void Nop(int) {}

class RecordLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.CreateFile("f", std::string(1000, 'x'));
    int raw = open(path_.c_str(), O_RDWR);
    ASSERT_THAT(raw, SyscallSucceeds());
    fd_.reset(raw);
  }
  // Runs fn in a child that has its own descriptor of the file.
  int InChild(const std::function<int(int)>& fn) {
    return RunInChild([&] {
      int fd = open(path_.c_str(), O_RDWR);
      CHILD_CHECK(fd >= 0);
      return fn(fd);
    });
  }
  TempDir dir_;
  std::string path_;
  FileDescriptor fd_;
};

TEST_F(RecordLockTest, WriteLockExcludesOtherProcess) {
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 10, 20), SyscallSucceeds());
  const pid_t me = getpid();
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(Blocked(fd, F_WRLCK, 0, 11));
    CHILD_CHECK(Blocked(fd, F_RDLCK, 29, 1));
    CHILD_CHECK(SetLk(fd, F_WRLCK, 30, 10) == 0);  // just after the range
    CHILD_CHECK(SetLk(fd, F_WRLCK, 0, 10) == 0);   // just before it
    // F_GETLK describes the conflicting lock and its owner.
    struct flock fl = Lk(F_WRLCK, 0, 0);
    CHILD_CHECK(fcntl(fd, F_GETLK, &fl) == 0);
    CHILD_CHECK(fl.l_type == F_WRLCK);
    CHILD_CHECK(fl.l_start == 10 && fl.l_len == 20);
    CHILD_CHECK(fl.l_pid == me);
    CHILD_CHECK(fl.l_whence == SEEK_SET);
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, ReadLocksAreShared) {
  ASSERT_THAT(SetLk(fd_.get(), F_RDLCK, 0, 100), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(SetLk(fd, F_RDLCK, 50, 100) == 0);
    CHILD_CHECK(Blocked(fd, F_WRLCK, 99, 1));
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, GetlkWithoutConflictReportsUnlck) {
  ASSERT_THAT(SetLk(fd_.get(), F_RDLCK, 0, 10), SyscallSucceeds());
  // Our own locks never conflict with us.
  struct flock fl = Lk(F_WRLCK, 0, 10);
  ASSERT_THAT(fcntl(fd_.get(), F_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_UNLCK);
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    struct flock r = Lk(F_RDLCK, 0, 10);
    CHILD_CHECK(fcntl(fd, F_GETLK, &r) == 0);
    CHILD_CHECK(r.l_type == F_UNLCK);
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, UnlockingTheMiddleSplitsALock) {
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 100), SyscallSucceeds());
  ASSERT_THAT(SetLk(fd_.get(), F_UNLCK, 40, 20), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(SetLk(fd, F_WRLCK, 45, 10) == 0);
    CHILD_CHECK(Blocked(fd, F_WRLCK, 39, 1));
    CHILD_CHECK(Blocked(fd, F_WRLCK, 60, 1));
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, ConvertingWriteToReadLetsOthersRead) {
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 10), SyscallSucceeds());
  ASSERT_THAT(SetLk(fd_.get(), F_RDLCK, 0, 10), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(SetLk(fd, F_RDLCK, 0, 10) == 0);
    CHILD_CHECK(Blocked(fd, F_WRLCK, 0, 10));
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, ZeroLengthLocksToEndOfFileAndBeyond) {
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 500, 0), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(Blocked(fd, F_WRLCK, 1000000, 1));
    CHILD_CHECK(SetLk(fd, F_WRLCK, 0, 500) == 0);
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, WhenceEndAndNegativeLength) {
  // l_whence = SEEK_END with l_start = -100 on a 1000-byte file: [900, 1000).
  struct flock fl = Lk(F_WRLCK, -100, 100, SEEK_END);
  ASSERT_THAT(fcntl(fd_.get(), F_SETLK, &fl), SyscallSucceeds());
  // "If l_len is negative, the interval described by lock covers bytes
  // l_start+l_len up to and including l_start-1."
  fl = Lk(F_WRLCK, 100, -50);
  ASSERT_THAT(fcntl(fd_.get(), F_SETLK, &fl), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(Blocked(fd, F_WRLCK, 950, 1));
    CHILD_CHECK(SetLk(fd, F_WRLCK, 899, 1) == 0);
    CHILD_CHECK(Blocked(fd, F_WRLCK, 50, 1));
    CHILD_CHECK(Blocked(fd, F_WRLCK, 99, 1));
    CHILD_CHECK(SetLk(fd, F_WRLCK, 100, 1) == 0);
    CHILD_CHECK(SetLk(fd, F_WRLCK, 49, 1) == 0);
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, Errors) {
  struct flock fl = Lk(F_WRLCK, 0, 1);
  EXPECT_THAT(fcntl(-1, F_SETLK, &fl), SyscallFailsWithErrno(EBADF));
  fl.l_type = 42;
  EXPECT_THAT(fcntl(fd_.get(), F_SETLK, &fl), SyscallFailsWithErrno(EINVAL));
  fl = Lk(F_WRLCK, -5, 1);  // before the start of the file
  EXPECT_THAT(fcntl(fd_.get(), F_SETLK, &fl), SyscallFailsWithErrno(EINVAL));
  fl = Lk(F_WRLCK, 0, 1);
  fl.l_whence = 7;
  EXPECT_THAT(fcntl(fd_.get(), F_SETLK, &fl), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(fd_.get(), F_SETLK, BadPointer()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(fcntl(fd_.get(), F_GETLK, BadPointer()), SyscallFailsWithErrno(EFAULT));
  // "EBADF ... the command was F_SETLK or F_SETLKW and the file
  // descriptor open mode doesn't match with the type of lock requested."
  int ro = open(path_.c_str(), O_RDONLY), wo = open(path_.c_str(), O_WRONLY);
  ASSERT_GE(ro, 0);
  ASSERT_GE(wo, 0);
  EXPECT_THAT(SetLk(ro, F_WRLCK, 0, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(SetLk(wo, F_RDLCK, 0, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(SetLk(ro, F_RDLCK, 0, 1), SyscallSucceeds());
  EXPECT_THAT(SetLk(wo, F_WRLCK, 0, 1), SyscallSucceeds());
  close(ro);
  close(wo);
}

TEST_F(RecordLockTest, ClosingAnyDescriptorReleasesTheProcessLocks) {
  // "If a process closes any file descriptor referring to a file, then all
  // of the process's locks on that file are released".
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 10), SyscallSucceeds());
  int other = open(path_.c_str(), O_RDONLY);
  ASSERT_GE(other, 0);
  close(other);
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(SetLk(fd, F_WRLCK, 0, 10) == 0);
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, LocksAreNotInheritedAndDieWithTheProcess) {
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 10), SyscallSucceeds());
  // The forked child does not own the parent's lock: it conflicts.
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(Blocked(fd_.get(), F_WRLCK, 0, 10));
    return 0;
  }), 0));
  // A child's locks vanish when it exits.
  ASSERT_THAT(SetLk(fd_.get(), F_UNLCK, 0, 0), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(InChild([&](int fd) {
    CHILD_CHECK(SetLk(fd, F_WRLCK, 0, 10) == 0);
    return 0;
  }), 0));
  EXPECT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 10), SyscallSucceeds());
}

TEST_F(RecordLockTest, SetlkwWaitsForRelease) {
  int ready[2], done[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(pipe(done), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    int fd = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(SetLk(fd, F_WRLCK, 0, 10) == 0);
    CHILD_CHECK(write(ready[1], "r", 1) == 1);
    char c;
    CHILD_CHECK(read(done[0], &c, 1) == 1);  // hold until told
    CHILD_CHECK(SetLk(fd, F_UNLCK, 0, 10) == 0);
    usleep(200000);
    return 0;
  });
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(Blocked(fd_.get(), F_WRLCK, 5, 1));
  ASSERT_THAT(write(done[1], "d", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(SetLk(fd_.get(), F_WRLCK, 5, 1, F_SETLKW), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  for (int f : {ready[0], ready[1], done[0], done[1]}) close(f);
}

TEST_F(RecordLockTest, SetlkwInterruptedBySignalIsEintr) {
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    int fd = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(SetLk(fd, F_WRLCK, 0, 1) == 0);
    CHILD_CHECK(write(ready[1], "r", 1) == 1);
    pause();
    return 0;
  });
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  {
    ScopedSigaction act(SIGALRM, Nop, 0);
    SetRealTimer(100000, 0);
    EXPECT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 1, F_SETLKW), SyscallFailsWithErrno(EINTR));
    SetRealTimer(0, 0);
  }
  kill(pid, SIGKILL);
  WaitForStatus(pid);
  close(ready[0]);
  close(ready[1]);
  // The dead child's lock is gone.
  EXPECT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 1), SyscallSucceeds());
}

TEST_F(RecordLockTest, SetlkwDetectsDeadlock) {
  // "EDEADLK It was detected that the specified F_SETLKW command would
  // cause a deadlock." Whichever of the two processes closes the cycle
  // gets EDEADLK; the other then gets its lock.
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 1), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    int fd = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(SetLk(fd, F_WRLCK, 1, 1) == 0);
    CHILD_CHECK(write(ready[1], "r", 1) == 1);
    if (SetLk(fd, F_WRLCK, 0, 1, F_SETLKW) == 0) return 0;
    return errno == EDEADLK ? 3 : 1;  // exiting releases byte 1
  });
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  usleep(100000);  // usually lets the child block first
  ScopedSigaction act(SIGALRM, Nop, 0);
  SetRealTimer(5000000, 0);  // a missed deadlock fails instead of hanging
  int r = SetLk(fd_.get(), F_WRLCK, 1, 1, F_SETLKW);
  int err = errno;
  SetRealTimer(0, 0);
  if (r == -1) {
    EXPECT_EQ(err, EDEADLK) << ErrnoName(err);
    ASSERT_THAT(SetLk(fd_.get(), F_UNLCK, 0, 1), SyscallSucceeds());
    EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  } else {
    EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 3)) << "neither side saw EDEADLK";
  }
  close(ready[0]);
  close(ready[1]);
}

TEST_F(RecordLockTest, SetlkwDetectsDeadlockThroughAChainOfWaiters) {
  // Linux follows "the owner of the lock I wait for waits for ..." : with
  // B waiting for us and C waiting for B, our wait for C closes a cycle.
  // Exactly one of the three gets EDEADLK; the others then get their locks.
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 1), SyscallSucceeds());
  auto waiter = [&](off_t hold, off_t want, useconds_t delay) {
    return ForkChild([&, hold, want, delay] {
      int fd = open(path_.c_str(), O_RDWR);
      CHILD_CHECK(SetLk(fd, F_WRLCK, hold, 1) == 0);
      CHILD_CHECK(write(ready[1], "r", 1) == 1);
      usleep(delay);
      if (SetLk(fd, F_WRLCK, want, 1, F_SETLKW) == 0) return 0;
      return errno == EDEADLK ? 3 : 1;
    });
  };
  pid_t b = waiter(1, 0, 0);       // B holds 1, waits for our 0
  pid_t c = waiter(2, 1, 100000);  // C holds 2, waits for B's 1
  ASSERT_GT(b, 0);
  ASSERT_GT(c, 0);
  char ch;
  ASSERT_THAT(read(ready[0], &ch, 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(read(ready[0], &ch, 1), SyscallSucceedsWithValue(1));
  usleep(300000);  // usually lets both block first
  ScopedSigaction act(SIGALRM, Nop, 0);
  SetRealTimer(5000000, 0);  // a missed deadlock fails instead of hanging
  int r = SetLk(fd_.get(), F_WRLCK, 2, 1, F_SETLKW);
  int err = errno;
  SetRealTimer(0, 0);
  EXPECT_TRUE(r == 0 || err == EDEADLK) << ErrnoName(err);
  ASSERT_THAT(SetLk(fd_.get(), F_UNLCK, 0, 0), SyscallSucceeds());
  int sb = WaitForStatus(b), sc = WaitForStatus(c);
  ASSERT_TRUE(WIFEXITED(sb) && WIFEXITED(sc));
  int deadlocks = (r == -1 && err == EDEADLK) + (WEXITSTATUS(sb) == 3) + (WEXITSTATUS(sc) == 3);
  EXPECT_EQ(deadlocks, 1) << "parent " << r << " B " << WEXITSTATUS(sb) << " C " << WEXITSTATUS(sc);
  EXPECT_NE(WEXITSTATUS(sb), 1);
  EXPECT_NE(WEXITSTATUS(sc), 1);
  close(ready[0]);
  close(ready[1]);
}

TEST_F(RecordLockTest, SetlkwWithoutACycleWaits) {
  // C waits for us, and we wait for B, who waits for nobody: no deadlock.
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(SetLk(fd_.get(), F_WRLCK, 0, 1), SyscallSucceeds());
  pid_t b = ForkChild([&] {
    int fd = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(SetLk(fd, F_WRLCK, 1, 1) == 0);
    CHILD_CHECK(write(ready[1], "r", 1) == 1);
    usleep(300000);
    return 0;  // exiting releases byte 1
  });
  pid_t c = ForkChild([&] {
    int fd = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(write(ready[1], "r", 1) == 1);
    return SetLk(fd, F_WRLCK, 0, 1, F_SETLKW) == 0 ? 0 : 1;
  });
  ASSERT_GT(b, 0);
  ASSERT_GT(c, 0);
  char ch;
  ASSERT_THAT(read(ready[0], &ch, 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(read(ready[0], &ch, 1), SyscallSucceedsWithValue(1));
  usleep(50000);
  ScopedSigaction act(SIGALRM, Nop, 0);
  SetRealTimer(10000000, 0);
  EXPECT_THAT(SetLk(fd_.get(), F_WRLCK, 1, 1, F_SETLKW), SyscallSucceeds());
  SetRealTimer(0, 0);
  ASSERT_THAT(SetLk(fd_.get(), F_UNLCK, 0, 0), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(b), 0));
  EXPECT_TRUE(ExitedWith(WaitForStatus(c), 0));
  close(ready[0]);
  close(ready[1]);
}

TEST_F(RecordLockTest, OfdLocksBelongToTheOpenFileDescription) {
  // "Open file description locks ... conflict with each other even when
  // they are acquired by the same process on the same file" through
  // different open() calls.
  int other = open(path_.c_str(), O_RDWR);
  ASSERT_GE(other, 0);
  struct flock fl = Lk(F_WRLCK, 0, 10);
  ASSERT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &fl), SyscallSucceeds());
  fl = Lk(F_WRLCK, 5, 1);
  EXPECT_THAT(fcntl(other, F_OFD_SETLK, &fl), SyscallFailsWithErrno(EAGAIN));
  // A dup shares the description, hence the lock.
  int dup_fd = dup(fd_.get());
  fl = Lk(F_WRLCK, 5, 1);
  EXPECT_THAT(fcntl(dup_fd, F_OFD_SETLK, &fl), SyscallSucceeds());
  // Closing another descriptor does not drop an OFD lock.
  close(dup_fd);
  fl = Lk(F_WRLCK, 0, 10);
  EXPECT_THAT(fcntl(other, F_OFD_SETLK, &fl), SyscallFailsWithErrno(EAGAIN));
  // F_OFD_GETLK reports l_pid -1.
  fl = Lk(F_RDLCK, 0, 0);
  ASSERT_THAT(fcntl(other, F_OFD_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_WRLCK);
  EXPECT_EQ(fl.l_pid, -1);
  EXPECT_EQ(fl.l_start, 0);
  EXPECT_EQ(fl.l_len, 10);
  // A process-associated lock of the same process conflicts too.
  EXPECT_TRUE(Blocked(other, F_WRLCK, 0, 1));
  close(other);
}

TEST_F(RecordLockTest, OfdLockSurvivesForkAndIsSharedWithChild) {
  struct flock fl = Lk(F_WRLCK, 0, 10);
  ASSERT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &fl), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    // Same open file description: no conflict.
    struct flock l = Lk(F_WRLCK, 0, 10);
    CHILD_CHECK(fcntl(fd_.get(), F_OFD_SETLK, &l) == 0);
    int fd = open(path_.c_str(), O_RDWR);
    l = Lk(F_WRLCK, 0, 10);
    errno = 0;
    CHILD_CHECK(fcntl(fd, F_OFD_SETLK, &l) == -1 && errno == EAGAIN);
    return 0;
  }), 0));
}

TEST_F(RecordLockTest, OfdLockRequiresZeroPid) {
  // "l_pid must be set to zero" for OFD commands (EINVAL otherwise).
  struct flock fl = Lk(F_WRLCK, 0, 1);
  fl.l_pid = 1;
  EXPECT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &fl), SyscallFailsWithErrno(EINVAL));
  fl.l_pid = 1;
  EXPECT_THAT(fcntl(fd_.get(), F_OFD_GETLK, &fl), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
