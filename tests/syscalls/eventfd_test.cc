// eventfd(2): counter semantics, EFD_SEMAPHORE, EFD_NONBLOCK, overflow,
// readiness, and sharing across threads and fork.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

FileDescriptor MakeEventfd(unsigned initval, int flags) {
  int fd = eventfd(initval, flags);
  EXPECT_THAT(fd, SyscallSucceeds());
  return FileDescriptor(fd);
}

ssize_t Read64(int fd, uint64_t* v) { return read(fd, v, sizeof(*v)); }
ssize_t Write64(int fd, uint64_t v) { return write(fd, &v, sizeof(v)); }

TEST(EventfdTest, ReadReturnsCounterAndResetsIt) {
  FileDescriptor fd = MakeEventfd(5, EFD_NONBLOCK);
  uint64_t v = 0;
  ASSERT_THAT(Read64(fd.get(), &v), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 5u);
  // "If the eventfd counter is zero at the time of the call ... fails with
  // the error EAGAIN" (non-blocking).
  EXPECT_THAT(Read64(fd.get(), &v), SyscallFailsWithErrno(EAGAIN));
}

TEST(EventfdTest, WritesAccumulate) {
  FileDescriptor fd = MakeEventfd(0, EFD_NONBLOCK);
  ASSERT_THAT(Write64(fd.get(), 3), SyscallSucceedsWithValue(8));
  ASSERT_THAT(Write64(fd.get(), 4), SyscallSucceedsWithValue(8));
  uint64_t v = 0;
  ASSERT_THAT(Read64(fd.get(), &v), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 7u);
}

TEST(EventfdTest, SemaphoreModeDecrementsByOne) {
  FileDescriptor fd = MakeEventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
  uint64_t v = 0;
  for (int i = 0; i < 3; i++) {
    ASSERT_THAT(Read64(fd.get(), &v), SyscallSucceedsWithValue(8));
    EXPECT_EQ(v, 1u);
  }
  EXPECT_THAT(Read64(fd.get(), &v), SyscallFailsWithErrno(EAGAIN));
}

TEST(EventfdTest, BufferSizeAndValueErrors) {
  FileDescriptor fd = MakeEventfd(1, EFD_NONBLOCK);
  uint32_t small = 0;
  // "fails with the error EINVAL if the size of the supplied buffer is
  // less than 8 bytes".
  EXPECT_THAT(read(fd.get(), &small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write(fd.get(), &small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  // "or if an attempt is made to write the value 0xffffffffffffffff."
  EXPECT_THAT(Write64(fd.get(), UINT64_MAX), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(read(fd.get(), BadPointer(), 8), SyscallFailsWithErrno(EFAULT));
}

TEST(EventfdTest, OverflowIsEagainWhenNonblocking) {
  FileDescriptor fd = MakeEventfd(0, EFD_NONBLOCK);
  // The maximum counter value is 0xfffffffffffffffe.
  ASSERT_THAT(Write64(fd.get(), UINT64_MAX - 1), SyscallSucceeds());
  EXPECT_THAT(Write64(fd.get(), 1), SyscallFailsWithErrno(EAGAIN));
  uint64_t v;
  ASSERT_THAT(Read64(fd.get(), &v), SyscallSucceeds());
  EXPECT_EQ(v, UINT64_MAX - 1);
  EXPECT_THAT(Write64(fd.get(), 1), SyscallSucceeds());
}

TEST(EventfdTest, PollReadiness) {
  FileDescriptor fd = MakeEventfd(0, EFD_NONBLOCK);
  struct pollfd p = {fd.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLOUT);
  ASSERT_THAT(Write64(fd.get(), 1), SyscallSucceeds());
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN | POLLOUT);
  ASSERT_THAT(Write64(fd.get(), UINT64_MAX - 2), SyscallSucceeds());
  // Counter at its maximum: readable but no longer writable.
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
}

TEST(EventfdTest, Flags) {
  FileDescriptor fd = MakeEventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_NE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
  FileDescriptor plain = MakeEventfd(0, 0);
  EXPECT_THAT(fcntl(plain.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(eventfd(0, 0x40000000), SyscallFailsWithErrno(EINVAL));
}

TEST(EventfdTest, BlockingReadWakesOnWriteFromThread) {
  FileDescriptor fd = MakeEventfd(0, 0);
  std::thread writer([&] {
    usleep(50 * 1000);
    uint64_t one = 42;
    (void)!write(fd.get(), &one, sizeof(one));
  });
  uint64_t v = 0;
  EXPECT_THAT(Read64(fd.get(), &v), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 42u);
  writer.join();
}

TEST(EventfdTest, CounterSharedWithChild) {
  FileDescriptor fd = MakeEventfd(0, 0);
  int status = RunInChild([&] {
    uint64_t v = 9;
    CHILD_CHECK(write(fd.get(), &v, sizeof(v)) == 8);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  uint64_t v = 0;
  ASSERT_THAT(Read64(fd.get(), &v), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 9u);
}

}  // namespace
}  // namespace palisade::testing
