// write(2) on a blocking pipe: "If a blocking write() ... the pipe is full,
// write() blocks until sufficient data has been read ... to allow the write
// to complete" (pipe(7), "I/O on pipes and FIFOs"): a large write into a
// pipe with a slow reader returns the full count, and only a signal handler
// (or an error) ends it early with the bytes written so far.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

constexpr size_t kMiB = 1 << 20;

struct Pipe {
  FileDescriptor r, w;
};

Pipe MakePipe(int flags = 0) {
  int fds[2];
  if (pipe2(fds, flags) != 0) DieErrno("pipe2");
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

// Reads everything from fd in small pieces with pauses, returning the bytes.
std::string SlowDrain(int fd, size_t piece) {
  std::string out;
  std::vector<char> buf(piece);
  for (int i = 0;; i++) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf.data(), n);
    if (i % 16 == 0) usleep(1000);
  }
  return out;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

TEST(PipeWriteBlockingTest, OneMebibyteWriteToSlowReaderIsWhole) {
  Pipe p = MakePipe();
  const std::string data = Pattern(kMiB);
  std::string got;
  std::thread reader([&] { got = SlowDrain(p.r.get(), 4096); });
  EXPECT_THAT(write(p.w.get(), data.data(), data.size()),
              SyscallSucceedsWithValue(static_cast<ssize_t>(kMiB)));
  p.w.reset();
  reader.join();
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "data reordered or corrupted";
}

TEST(PipeWriteBlockingTest, WritevLargerThanPipeIsWhole) {
  Pipe p = MakePipe();
  const std::string a = Pattern(300 * 1024), b = Pattern(500 * 1024);
  struct iovec iov[2] = {{const_cast<char*>(a.data()), a.size()},
                         {const_cast<char*>(b.data()), b.size()}};
  std::string got;
  std::thread reader([&] { got = SlowDrain(p.r.get(), 1000); });
  EXPECT_THAT(writev(p.w.get(), iov, 2), SyscallSucceedsWithValue(static_cast<ssize_t>(a.size() + b.size())));
  p.w.reset();
  reader.join();
  EXPECT_TRUE(got == a + b);
}

TEST(PipeWriteBlockingTest, WriteToForkedSlowReaderIsWhole) {
  Pipe p = MakePipe();
  const std::string data = Pattern(3 * kMiB / 2);
  pid_t pid = ForkChild([&] {
    p.w.reset();
    std::string got = SlowDrain(p.r.get(), 8192);
    CHILD_CHECK(got.size() == data.size());
    CHILD_CHECK(got == data);
    return 0;
  });
  ASSERT_GT(pid, 0);
  p.r.reset();
  EXPECT_THAT(write(p.w.get(), data.data(), data.size()),
              SyscallSucceedsWithValue(static_cast<ssize_t>(data.size())));
  p.w.reset();
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
}

TEST(PipeWriteBlockingTest, NonblockingWriteIsPartial) {
  // "If O_NONBLOCK is set ... If there is room to write some data, then
  // write() succeeds and may transfer only part of the data" (n > PIPE_BUF).
  Pipe p = MakePipe(O_NONBLOCK);
  const std::string data = Pattern(kMiB);
  ssize_t n = write(p.w.get(), data.data(), data.size());
  ASSERT_GT(n, 0);
  EXPECT_LT(static_cast<size_t>(n), data.size());
  EXPECT_THAT(write(p.w.get(), data.data(), data.size()), SyscallFailsWithErrno(EAGAIN));
}

std::atomic<int> g_alarms{0};
void OnAlarm(int) { g_alarms++; }

TEST(PipeWriteBlockingTest, SignalAfterPartialWriteReturnsCount) {
  // Nobody reads: the write fills the pipe and blocks; a handled SIGALRM
  // (without SA_RESTART) ends it with the number of bytes already written.
  Pipe p = MakePipe();
  ScopedSigaction act(SIGALRM, OnAlarm, 0);
  g_alarms = 0;
  const std::string data = Pattern(kMiB);
  SetRealTimer(100000, 0);
  ssize_t n = write(p.w.get(), data.data(), data.size());
  SetRealTimer(0, 0);
  EXPECT_EQ(g_alarms, 1);
  ASSERT_GT(n, 0) << ErrnoName(errno);
  EXPECT_LT(static_cast<size_t>(n), data.size());
  int avail = 0;
  ASSERT_THAT(ioctl(p.r.get(), FIONREAD, &avail), SyscallSucceeds());
  EXPECT_EQ(avail, n) << "count returned differs from bytes in the pipe";
}

}  // namespace
}  // namespace palisade::testing
