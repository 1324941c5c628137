// pipe(2)/pipe2(2) and pipe(7): EOF, EPIPE/SIGPIPE, O_NONBLOCK, capacity
// and PIPE_BUF atomicity.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

class PipeTest : public ::testing::Test {
 protected:
  void Make(int flags = 0) {
    int fds[2];
    ASSERT_THAT(pipe2(fds, flags), SyscallSucceeds());
    r_.reset(fds[0]);
    w_.reset(fds[1]);
  }
  FileDescriptor r_, w_;
};

TEST_F(PipeTest, DataFlowsFromWriteEndToReadEnd) {
  Make();
  EXPECT_THAT(write(w_.get(), "hello", 5), SyscallSucceedsWithValue(5));
  char buf[8] = {};
  EXPECT_THAT(read(r_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_STREQ(buf, "hello");
}

TEST_F(PipeTest, EndsHaveOneDirection) {
  Make();
  char c = 'x';
  EXPECT_THAT(write(r_.get(), &c, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(w_.get(), &c, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_EQ(fcntl(r_.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(fcntl(w_.get(), F_GETFL) & O_ACCMODE, O_WRONLY);
  struct stat st;
  ASSERT_THAT(fstat(r_.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(PipeTest, ReadReturnsEofOnceAllWritersClosed) {
  Make();
  int w2 = dup(w_.get());
  ASSERT_THAT(w2, SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "ab", 2), SyscallSucceeds());
  w_.reset();
  char buf[4];
  EXPECT_THAT(read(r_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(2));
  close(w2);
  // "If all file descriptors referring to the write end of a pipe have been
  // closed, then an attempt to read(2) from the pipe will see end-of-file".
  EXPECT_THAT(read(r_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST_F(PipeTest, WriteWithNoReaderIsEpipeWhenSigpipeIgnored) {
  Make();
  ScopedSigaction ignore(SIGPIPE, SIG_IGN);
  r_.reset();
  EXPECT_THAT(write(w_.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
}

TEST_F(PipeTest, WriteWithNoReaderRaisesSigpipe) {
  Make();
  r_.reset();
  int status = RunInChild([&] {
    signal(SIGPIPE, SIG_DFL);
    (void)!write(w_.get(), "x", 1);
    return 3;  // Not reached if SIGPIPE killed us.
  });
  EXPECT_TRUE(KilledBy(status, SIGPIPE));
}

TEST_F(PipeTest, NonblockingReadOfEmptyPipeIsEagain) {
  Make(O_NONBLOCK);
  char c;
  EXPECT_THAT(read(r_.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(write(w_.get(), "z", 1), SyscallSucceeds());
  EXPECT_THAT(read(r_.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(read(r_.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  // With no writer left, EOF wins over EAGAIN.
  w_.reset();
  EXPECT_THAT(read(r_.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST_F(PipeTest, NonblockingWriteFillsCapacityThenEagain) {
  Make(O_NONBLOCK);
  int capacity = fcntl(w_.get(), F_GETPIPE_SZ);
  ASSERT_THAT(capacity, SyscallSucceeds());
  EXPECT_GE(capacity, PIPE_BUF);
  std::string big(1 << 20, 'p');
  // "If there is room to write some bytes, a partial write may occur".
  ssize_t n = write(w_.get(), big.data(), big.size());
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_EQ(n, capacity);
  EXPECT_THAT(write(w_.get(), big.data(), 1), SyscallFailsWithErrno(EAGAIN));
  // "O_NONBLOCK enabled, n <= PIPE_BUF: If there is room to write n bytes
  // ... otherwise write() fails, with errno set to EAGAIN."
  std::vector<char> drain(100);
  ASSERT_THAT(read(r_.get(), drain.data(), drain.size()), SyscallSucceedsWithValue(100));
  EXPECT_THAT(write(w_.get(), big.data(), PIPE_BUF), SyscallFailsWithErrno(EAGAIN));
  drain.resize(3 * PIPE_BUF);
  ASSERT_THAT(read(r_.get(), drain.data(), drain.size()), SyscallSucceeds());
  EXPECT_THAT(write(w_.get(), big.data(), PIPE_BUF), SyscallSucceedsWithValue(PIPE_BUF));
  int avail = 0;
  ASSERT_THAT(ioctl(r_.get(), FIONREAD, &avail), SyscallSucceeds());
  EXPECT_EQ(avail, capacity - 100 - 3 * PIPE_BUF + PIPE_BUF);
}

TEST_F(PipeTest, FionreadCountsUnreadBytes) {
  Make();
  int avail = -1;
  ASSERT_THAT(ioctl(r_.get(), FIONREAD, &avail), SyscallSucceeds());
  EXPECT_EQ(avail, 0);
  ASSERT_THAT(write(w_.get(), "12345", 5), SyscallSucceeds());
  ASSERT_THAT(ioctl(r_.get(), FIONREAD, &avail), SyscallSucceeds());
  EXPECT_EQ(avail, 5);
}

TEST_F(PipeTest, Pipe2Flags) {
  Make(O_CLOEXEC | O_NONBLOCK);
  EXPECT_THAT(fcntl(r_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(w_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_NE(fcntl(r_.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(w_.get(), F_GETFL) & O_NONBLOCK, 0);
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor a(fds[0]), b(fds[1]);
  EXPECT_THAT(fcntl(fds[0], F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_EQ(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(PipeTest, Pipe2Errors) {
  int fds[2];
  // "EINVAL (pipe2()) Invalid value in flags."
  EXPECT_THAT(pipe2(fds, O_APPEND), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pipe2(static_cast<int*>(BadPointer()), 0), SyscallFailsWithErrno(EFAULT));
}

TEST_F(PipeTest, BlockingReadWaitsForWriter) {
  Make();
  std::thread writer([&] {
    usleep(50 * 1000);
    (void)!write(w_.get(), "late", 4);
  });
  char buf[8];
  EXPECT_THAT(read(r_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  writer.join();
}

TEST_F(PipeTest, BlockingWriteLargerThanCapacityCompletes) {
  Make();
  const size_t total = 512 * 1024;
  std::string data(total, '\0');
  for (size_t i = 0; i < total; i++) data[i] = static_cast<char>(i % 251);
  std::thread writer([&] { EXPECT_TRUE(WriteAll(w_.get(), data)); w_.reset(); });
  std::string got;
  EXPECT_TRUE(ReadAll(r_.get(), &got));
  writer.join();
  EXPECT_EQ(got.size(), total);
  EXPECT_TRUE(got == data);
}

TEST_F(PipeTest, WritesUpToPipeBufAreAtomic) {
  Make();
  // Two writers each send records of exactly PIPE_BUF bytes filled with
  // their own letter; "writes of less than PIPE_BUF bytes must be atomic",
  // so the stream must be a sequence of whole, unmixed records.
  constexpr int kRecords = 48;
  std::vector<pid_t> pids;
  for (char letter : {'a', 'b'}) {
    pid_t pid = ForkChild([&, letter] {
      r_.reset();
      std::string rec(PIPE_BUF, letter);
      for (int i = 0; i < kRecords; i++) {
        CHILD_CHECK(write(w_.get(), rec.data(), rec.size()) == PIPE_BUF);
      }
      return 0;
    });
    ASSERT_GT(pid, 0);
    pids.push_back(pid);
  }
  w_.reset();
  std::string all;
  EXPECT_TRUE(ReadAll(r_.get(), &all));
  for (pid_t p : pids) EXPECT_TRUE(ExitedWith(WaitForStatus(p), 0));
  ASSERT_EQ(all.size(), 2u * kRecords * PIPE_BUF);
  int counts[2] = {0, 0};
  for (size_t off = 0; off < all.size(); off += PIPE_BUF) {
    std::string rec = all.substr(off, PIPE_BUF);
    ASSERT_EQ(rec, std::string(PIPE_BUF, rec[0])) << "record at " << off << " is interleaved";
    counts[rec[0] - 'a']++;
  }
  EXPECT_EQ(counts[0], kRecords);
  EXPECT_EQ(counts[1], kRecords);
}

TEST_F(PipeTest, PipeSharedAcrossFork) {
  Make();
  int status = RunInChild([&] {
    r_.reset();
    CHILD_CHECK(WriteAll(w_.get(), "from child"));
    return 0;
  });
  w_.reset();
  std::string got;
  EXPECT_TRUE(ReadAll(r_.get(), &got));
  EXPECT_EQ(got, "from child");
  EXPECT_TRUE(ExitedWith(status, 0));
}

TEST_F(PipeTest, SetPipeSize) {
  Make();
  ASSERT_THAT(fcntl(w_.get(), F_SETPIPE_SZ, 2 * 65536), SyscallSucceeds());
  EXPECT_THAT(fcntl(r_.get(), F_GETPIPE_SZ), SyscallSucceedsWithValue(2 * 65536));
}

}  // namespace
}  // namespace palisade::testing
