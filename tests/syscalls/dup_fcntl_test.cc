// dup(2), dup2(2), dup3(2) and fcntl(2) descriptor and status-flag commands.
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

class DupFcntlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.CreateFile("f", "0123456789");
    int fd = open(path_.c_str(), O_RDWR);
    ASSERT_THAT(fd, SyscallSucceeds());
    fd_.reset(fd);
  }
  int NofileLimit() {
    struct rlimit rl;
    EXPECT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
    return static_cast<int>(rl.rlim_cur);
  }
  TempDir dir_;
  std::string path_;
  FileDescriptor fd_;
};

TEST_F(DupFcntlTest, DupSharesOffsetAndStatusFlags) {
  int d = dup(fd_.get());
  ASSERT_THAT(d, SyscallSucceeds());
  FileDescriptor guard(d);
  EXPECT_NE(d, fd_.get());
  // "They refer to the same open file description and thus share file
  // offset and file status flags".
  ASSERT_THAT(lseek(fd_.get(), 4, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(d, 0, SEEK_CUR), SyscallSucceedsWithValue(4));
  char c;
  ASSERT_THAT(read(d, &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, '4');
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_APPEND), SyscallSucceeds());
  EXPECT_THAT(fcntl(d, F_GETFL), SyscallSucceedsWithValue(
                                     ::testing::Truly([](int fl) { return fl & O_APPEND; })));
}

TEST_F(DupFcntlTest, DupReturnsLowestFreeNumberWithoutCloexec) {
  int a = dup(fd_.get());
  int b = dup(fd_.get());
  ASSERT_THAT(a, SyscallSucceeds());
  ASSERT_THAT(b, SyscallSucceeds());
  FileDescriptor gb(b);
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  close(a);
  int c = dup(fd_.get());
  EXPECT_EQ(c, a);
  FileDescriptor gc(c);
  // "The close-on-exec flag for the duplicate descriptor is off."
  EXPECT_THAT(fcntl(c, F_GETFD), SyscallSucceedsWithValue(0));
}

TEST_F(DupFcntlTest, DupBadFd) {
  EXPECT_THAT(dup(-1), SyscallFailsWithErrno(EBADF));
  int d = dup(fd_.get());
  ASSERT_THAT(d, SyscallSucceeds());
  close(d);
  EXPECT_THAT(dup(d), SyscallFailsWithErrno(EBADF));
  // close(2): closing twice is EBADF.
  EXPECT_THAT(close(d), SyscallFailsWithErrno(EBADF));
}

TEST_F(DupFcntlTest, Dup2ToChosenNumber) {
  const int target = 200;
  ASSERT_THAT(dup2(fd_.get(), target), SyscallSucceedsWithValue(target));
  FileDescriptor guard(target);
  char c;
  ASSERT_THAT(pread(target, &c, 1, 9), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, '9');
}

TEST_F(DupFcntlTest, Dup2SilentlyClosesTarget) {
  std::string other = dir_.CreateFile("other", "OTHER");
  int o = open(other.c_str(), O_RDONLY);
  ASSERT_THAT(o, SyscallSucceeds());
  FileDescriptor guard(o);
  ASSERT_THAT(dup2(fd_.get(), o), SyscallSucceedsWithValue(o));
  char c;
  ASSERT_THAT(pread(o, &c, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, '0');
}

TEST_F(DupFcntlTest, Dup2SameDescriptorDoesNothing) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  // "If oldfd is a valid file descriptor, and newfd has the same value as
  // oldfd, then dup2() does nothing, and returns newfd."
  EXPECT_THAT(dup2(fd_.get(), fd_.get()), SyscallSucceedsWithValue(fd_.get()));
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(dup2(-1, -1), SyscallFailsWithErrno(EBADF));
}

TEST_F(DupFcntlTest, Dup2Errors) {
  EXPECT_THAT(dup2(-1, 100), SyscallFailsWithErrno(EBADF));
  // "EBADF newfd is out of the allowed range for file descriptors".
  EXPECT_THAT(dup2(fd_.get(), NofileLimit()), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(dup2(fd_.get(), -1), SyscallFailsWithErrno(EBADF));
}

TEST_F(DupFcntlTest, Dup3) {
  const int target = 201;
  ASSERT_THAT(dup3(fd_.get(), target, O_CLOEXEC), SyscallSucceedsWithValue(target));
  FileDescriptor guard(target);
  EXPECT_THAT(fcntl(target, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(dup3(fd_.get(), target, 0), SyscallSucceedsWithValue(target));
  EXPECT_THAT(fcntl(target, F_GETFD), SyscallSucceedsWithValue(0));
  // "EINVAL (dup3()) flags contain an invalid value. EINVAL (dup3()) oldfd
  // was equal to newfd."
  EXPECT_THAT(dup3(fd_.get(), fd_.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(dup3(fd_.get(), 202, O_NONBLOCK), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(dup3(-1, 202, 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(DupFcntlTest, FDupfdReturnsLowestAtOrAboveArgument) {
  int d = fcntl(fd_.get(), F_DUPFD, 100);
  ASSERT_THAT(d, SyscallSucceeds());
  FileDescriptor g1(d);
  EXPECT_GE(d, 100);
  int e = fcntl(fd_.get(), F_DUPFD, d);
  ASSERT_THAT(e, SyscallSucceeds());
  FileDescriptor g2(e);
  EXPECT_GT(e, d);
  EXPECT_THAT(fcntl(e, F_GETFD), SyscallSucceedsWithValue(0));
  int f = fcntl(fd_.get(), F_DUPFD_CLOEXEC, 100);
  ASSERT_THAT(f, SyscallSucceeds());
  FileDescriptor g3(f);
  EXPECT_THAT(fcntl(f, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST_F(DupFcntlTest, FDupfdErrors) {
  // "EINVAL The value specified in arg is negative or is greater than the
  // maximum allowable value."
  EXPECT_THAT(fcntl(fd_.get(), F_DUPFD, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(fd_.get(), F_DUPFD, NofileLimit()), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(-1, F_DUPFD, 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(DupFcntlTest, FdFlags) {
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(0));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, 0), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(-1, F_GETFD), SyscallFailsWithErrno(EBADF));
}

TEST_F(DupFcntlTest, StatusFlags) {
  int fl = fcntl(fd_.get(), F_GETFL);
  ASSERT_THAT(fl, SyscallSucceeds());
  EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
  EXPECT_EQ(fl & (O_APPEND | O_NONBLOCK), 0);
  // "On Linux, this command can change only the O_APPEND, O_ASYNC,
  // O_DIRECT, O_NOATIME, and O_NONBLOCK flags"; access mode and creation
  // flags are ignored.
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_APPEND | O_NONBLOCK | O_WRONLY | O_CREAT | O_TRUNC),
              SyscallSucceeds());
  fl = fcntl(fd_.get(), F_GETFL);
  EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
  EXPECT_EQ(fl & (O_APPEND | O_NONBLOCK), O_APPEND | O_NONBLOCK);
  EXPECT_EQ(ReadFileOrDie(path_), "0123456789") << "O_TRUNC via F_SETFL must be ignored";
  // O_APPEND set through fcntl takes effect on the next write.
  ASSERT_THAT(lseek(fd_.get(), 0, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(fd_.get(), "X", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadFileOrDie(path_), "0123456789X");
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, 0), SyscallSucceeds());
  EXPECT_EQ(fcntl(fd_.get(), F_GETFL) & (O_APPEND | O_NONBLOCK), 0);
}

TEST_F(DupFcntlTest, NonblockOnPipeThroughSetfl) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  ASSERT_THAT(fcntl(r.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(r.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

TEST_F(DupFcntlTest, InvalidCommandIsEinval) {
  EXPECT_THAT(fcntl(fd_.get(), 0x7fff), SyscallFailsWithErrno(EINVAL));
}

TEST_F(DupFcntlTest, RecordLockVisibleToOtherProcessOnly) {
  struct flock lk {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  lk.l_start = 0;
  lk.l_len = 5;
  ASSERT_THAT(fcntl(fd_.get(), F_SETLK, &lk), SyscallSucceeds());
  // The owner itself sees no conflict.
  struct flock q {};
  q.l_type = F_WRLCK;
  q.l_whence = SEEK_SET;
  q.l_len = 5;
  ASSERT_THAT(fcntl(fd_.get(), F_GETLK, &q), SyscallSucceeds());
  EXPECT_EQ(q.l_type, F_UNLCK);
  pid_t self = getpid();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    int fd = open(path_.c_str(), O_RDWR);
    struct flock c {};
    c.l_type = F_WRLCK;
    c.l_whence = SEEK_SET;
    c.l_len = 5;
    if (fd < 0 || fcntl(fd, F_GETLK, &c) != 0) _exit(10);
    if (c.l_type != F_WRLCK || c.l_pid != self) _exit(11);
    c.l_type = F_WRLCK;
    if (fcntl(fd, F_SETLK, &c) != -1 || (errno != EAGAIN && errno != EACCES)) _exit(12);
    _exit(0);
  }
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace palisade::testing
