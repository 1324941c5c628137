// FIFOs, from mkfifo(3), fifo(7), open(2) and pipe(7): opening blocks
// until the other end is opened, O_NONBLOCK opens for reading succeed and
// for writing fail with ENXIO, EOF and EPIPE follow the last writer and
// reader.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

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

class FifoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Join("fifo");
    ASSERT_THAT(mkfifo(path_.c_str(), 0600), SyscallSucceeds());
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(FifoTest, MkfifoCreatesFifoNode) {
  struct stat st;
  ASSERT_THAT(stat(path_.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  EXPECT_THAT(mkfifo(path_.c_str(), 0600), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mkfifo(dir_.Join("no/such").c_str(), 0600), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(mknod(dir_.Join("viamknod").c_str(), S_IFIFO | 0600, 0), SyscallSucceeds());
  ASSERT_THAT(stat(dir_.Join("viamknod").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_THAT(mkfifoat(AT_FDCWD, dir_.Join("at").c_str(), 0600), SyscallSucceeds());
}

TEST_F(FifoTest, NonblockingOpenForReadingSucceedsWithoutWriter) {
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_THAT(r, SyscallSucceeds());
  char c;
  // No writer has ever opened it: read returns EOF (0), not EAGAIN.
  EXPECT_THAT(read(r, &c, 1), SyscallSucceedsWithValue(0));
  close(r);
}

TEST_F(FifoTest, NonblockingOpenForWritingWithoutReaderIsEnxio) {
  EXPECT_THAT(open(path_.c_str(), O_WRONLY | O_NONBLOCK), SyscallFailsWithErrno(ENXIO));
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(r, 0);
  int w = open(path_.c_str(), O_WRONLY | O_NONBLOCK);
  EXPECT_THAT(w, SyscallSucceeds());
  close(w);
  close(r);
}

TEST_F(FifoTest, ReadWriteOpenNeverBlocks) {
  // fifo(7): "Under Linux, opening a FIFO for read and write will succeed
  // both in blocking and nonblocking mode."
  int rw = open(path_.c_str(), O_RDWR);
  ASSERT_THAT(rw, SyscallSucceeds());
  ASSERT_THAT(write(rw, "loop", 4), SyscallSucceedsWithValue(4));
  char buf[8];
  EXPECT_THAT(read(rw, buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  close(rw);
}

TEST_F(FifoTest, BlockingOpensRendezvous) {
  std::string got;
  std::thread writer([&] {
    int w = open(path_.c_str(), O_WRONLY);  // blocks until the reader opens
    if (w >= 0) {
      WriteAll(w, "through the fifo");
      close(w);
    }
  });
  int r = open(path_.c_str(), O_RDONLY);
  ASSERT_THAT(r, SyscallSucceeds());
  EXPECT_TRUE(ReadAll(r, &got));
  writer.join();
  EXPECT_EQ(got, "through the fifo");
  close(r);
}

TEST_F(FifoTest, BlockingOpenAcrossProcesses) {
  pid_t pid = ForkChild([&] {
    int r = open(path_.c_str(), O_RDONLY);
    CHILD_CHECK(r >= 0);
    std::string s;
    CHILD_CHECK(ReadAll(r, &s));
    CHILD_CHECK(s == "hello child");
    return 0;
  });
  ASSERT_GT(pid, 0);
  int w = open(path_.c_str(), O_WRONLY);
  ASSERT_THAT(w, SyscallSucceeds());
  EXPECT_TRUE(WriteAll(w, "hello child"));
  close(w);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
}

TEST_F(FifoTest, BlockingOpenInterruptedBySignalIsEintr) {
  ScopedSigaction act(SIGALRM, Nop, 0);
  SetRealTimer(100000, 0);
  EXPECT_THAT(open(path_.c_str(), O_RDONLY), SyscallFailsWithErrno(EINTR));
  SetRealTimer(0, 0);
}

TEST_F(FifoTest, EofAfterLastWriterCloses) {
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  int w = open(path_.c_str(), O_WRONLY);
  ASSERT_GE(r, 0);
  ASSERT_GE(w, 0);
  char c;
  // A writer exists but wrote nothing: EAGAIN.
  EXPECT_THAT(read(r, &c, 1), SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(write(w, "x", 1), SyscallSucceedsWithValue(1));
  close(w);
  EXPECT_THAT(read(r, &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(read(r, &c, 1), SyscallSucceedsWithValue(0));
  struct pollfd pfd = {r, POLLIN, 0};
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pfd.revents & POLLHUP);
  close(r);
}

TEST_F(FifoTest, WriteAfterLastReaderClosesIsEpipe) {
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  int w = open(path_.c_str(), O_WRONLY);
  ASSERT_GE(r, 0);
  ASSERT_GE(w, 0);
  close(r);
  ScopedSigaction ign(SIGPIPE, SIG_IGN);
  EXPECT_THAT(write(w, "x", 1), SyscallFailsWithErrno(EPIPE));
  close(w);
  EXPECT_TRUE(KilledBy(RunInChild([&] {
    int r2 = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
    int w2 = open(path_.c_str(), O_WRONLY);
    close(r2);
    signal(SIGPIPE, SIG_DFL);
    (void)write(w2, "x", 1);
    return 0;
  }), SIGPIPE));
}

TEST_F(FifoTest, DataIsNotKeptInTheFilesystem) {
  int rw = open(path_.c_str(), O_RDWR);
  ASSERT_GE(rw, 0);
  ASSERT_THAT(write(rw, "abc", 3), SyscallSucceedsWithValue(3));
  struct stat st;
  ASSERT_THAT(stat(path_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
  EXPECT_THAT(lseek(rw, 0, SEEK_SET), SyscallFailsWithErrno(ESPIPE));
  close(rw);
  // Data left in a FIFO is discarded when the last end closes.
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  char c;
  EXPECT_THAT(read(r, &c, 1), SyscallSucceedsWithValue(0));
  close(r);
}

TEST_F(FifoTest, UnlinkedFifoKeepsWorkingThroughOpenEnds) {
  int rw = open(path_.c_str(), O_RDWR);
  ASSERT_GE(rw, 0);
  ASSERT_THAT(unlink(path_.c_str()), SyscallSucceeds());
  ASSERT_THAT(write(rw, "z", 1), SyscallSucceedsWithValue(1));
  char c = 0;
  EXPECT_THAT(read(rw, &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'z');
  close(rw);
}

TEST_F(FifoTest, OpeningFifoWithOTruncAndOCreatIsAllowed) {
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CREAT | O_TRUNC, 0600);
  EXPECT_THAT(r, SyscallSucceeds());
  close(r);
  EXPECT_THAT(open(path_.c_str(), O_RDONLY | O_CREAT | O_EXCL, 0600), SyscallFailsWithErrno(EEXIST));
}

}  // namespace
}  // namespace palisade::testing
