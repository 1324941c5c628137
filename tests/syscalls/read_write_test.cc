// read(2), write(2), pread(2)/pwrite(2), readv(2)/writev(2),
// preadv(2)/pwritev(2) and lseek(2), from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

class ReadWriteTest : public ::testing::Test {
 protected:
  // Opens `name` in the temp dir with `flags`, creating it with `contents`.
  FileDescriptor OpenFile(const std::string& contents, int flags) {
    std::string path = dir_.CreateFile("f", contents);
    int fd = open(path.c_str(), flags);
    EXPECT_THAT(fd, SyscallSucceeds());
    return FileDescriptor(fd);
  }
  void MakePipe(FileDescriptor* r, FileDescriptor* w) {
    int fds[2];
    ASSERT_THAT(pipe(fds), SyscallSucceeds());
    r->reset(fds[0]);
    w->reset(fds[1]);
  }
  TempDir dir_;
};

TEST_F(ReadWriteTest, WriteThenReadBack) {
  FileDescriptor fd = OpenFile("", O_RDWR);
  EXPECT_THAT(write(fd.get(), "hello world", 11), SyscallSucceedsWithValue(11));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  char buf[32] = {};
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(11));
  EXPECT_STREQ(buf, "hello world");
}

TEST_F(ReadWriteTest, ReadAdvancesOffsetAndStopsAtEof) {
  FileDescriptor fd = OpenFile("abcdef", O_RDONLY);
  char buf[4];
  EXPECT_THAT(read(fd.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "abcd");
  // "fewer bytes than requested ... because we are close to end-of-file".
  EXPECT_THAT(read(fd.get(), buf, 4), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "ef");
  // "If the file offset is at or past the end of file, no bytes are read,
  // and read() returns zero."
  EXPECT_THAT(read(fd.get(), buf, 4), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(6));
}

TEST_F(ReadWriteTest, ZeroCountReturnsZero) {
  FileDescriptor fd = OpenFile("data", O_RDWR);
  char buf[1];
  EXPECT_THAT(read(fd.get(), buf, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(fd.get(), buf, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST_F(ReadWriteTest, WriteExtendsFile) {
  FileDescriptor fd = OpenFile("", O_WRONLY);
  std::string data(10000, 'x');
  EXPECT_THAT(write(fd.get(), data.data(), data.size()), SyscallSucceedsWithValue(10000));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 10000);
}

TEST_F(ReadWriteTest, LargeRoundTrip) {
  FileDescriptor fd = OpenFile("", O_RDWR);
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>(i * 7 + (i >> 12));
  ASSERT_TRUE(WriteAll(fd.get(), data));
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  std::string back;
  ASSERT_TRUE(ReadAll(fd.get(), &back));
  EXPECT_TRUE(back == data) << "1 MiB round trip differs";
}

TEST_F(ReadWriteTest, BadFdIsEbadf) {
  char buf[4];
  EXPECT_THAT(read(-1, buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(-1, buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
  // A descriptor number that was valid a moment ago.
  FileDescriptor tmp = OpenFile("", O_RDONLY);
  const int fd = tmp.get();
  tmp.reset();
  EXPECT_THAT(read(fd, buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(fd, buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
}

TEST_F(ReadWriteTest, WrongAccessModeIsEbadf) {
  char buf[4] = {'a', 'b', 'c', 'd'};
  {
    FileDescriptor fd = OpenFile("data", O_WRONLY);
    // "EBADF fd is not a valid file descriptor or is not open for reading."
    EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
  }
  {
    FileDescriptor fd = OpenFile("data", O_RDONLY);
    EXPECT_THAT(write(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
  }
}

TEST_F(ReadWriteTest, BadBufferIsEfault) {
  FileDescriptor fd = OpenFile("some data", O_RDWR);
  EXPECT_THAT(read(fd.get(), BadPointer(), 4), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_END), SyscallSucceeds());
  EXPECT_THAT(write(fd.get(), BadPointer(), 4), SyscallFailsWithErrno(EFAULT));
}

TEST_F(ReadWriteTest, ReadDirectoryIsEisdir) {
  int raw = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(raw, SyscallSucceeds());
  FileDescriptor fd(raw);
  char buf[16];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EISDIR));
}

TEST_F(ReadWriteTest, PreadPwriteUseOffsetAndKeepFileOffset) {
  FileDescriptor fd = OpenFile("0123456789", O_RDWR);
  ASSERT_THAT(lseek(fd.get(), 2, SEEK_SET), SyscallSucceeds());
  char buf[4] = {};
  EXPECT_THAT(pread(fd.get(), buf, 3, 5), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "567");
  EXPECT_THAT(pwrite(fd.get(), "AB", 2, 8), SyscallSucceedsWithValue(2));
  // "The file offset is not changed."
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(2));
  EXPECT_THAT(pread(fd.get(), buf, 4, 6), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "67AB");
  // Past end of file: zero bytes.
  EXPECT_THAT(pread(fd.get(), buf, 4, 100), SyscallSucceedsWithValue(0));
}

TEST_F(ReadWriteTest, PwritePastEndLeavesZeroFilledHole) {
  FileDescriptor fd = OpenFile("ab", O_RDWR);
  EXPECT_THAT(pwrite(fd.get(), "z", 1, 4096), SyscallSucceedsWithValue(1));
  std::string buf(4097, 'q');
  EXPECT_THAT(pread(fd.get(), buf.data(), buf.size(), 0), SyscallSucceedsWithValue(4097));
  EXPECT_EQ(buf.substr(0, 2), "ab");
  EXPECT_EQ(buf.substr(2, 4094), std::string(4094, '\0'));
  EXPECT_EQ(buf[4096], 'z');
}

TEST_F(ReadWriteTest, PwriteWithOappendAppends) {
  // pwrite(2) BUGS: "if a file is opened with O_APPEND, pwrite() appends
  // data to the end of the file, regardless of the value of offset."
  FileDescriptor fd = OpenFile("12345", O_RDWR | O_APPEND);
  EXPECT_THAT(pwrite(fd.get(), "xy", 2, 0), SyscallSucceedsWithValue(2));
  char buf[8] = {};
  EXPECT_THAT(pread(fd.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(buf, 7), "12345xy");
}

TEST_F(ReadWriteTest, PreadNegativeOffsetIsEinval) {
  FileDescriptor fd = OpenFile("abc", O_RDWR);
  char buf[2];
  EXPECT_THAT(pread(fd.get(), buf, 1, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pwrite(fd.get(), buf, 1, -1), SyscallFailsWithErrno(EINVAL));
}

TEST_F(ReadWriteTest, PositionalIoOnPipeIsEspipe) {
  FileDescriptor r, w;
  MakePipe(&r, &w);
  char buf[2] = {'a', 'b'};
  EXPECT_THAT(pwrite(w.get(), buf, 1, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(pread(r.get(), buf, 1, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(lseek(r.get(), 0, SEEK_SET), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(lseek(w.get(), 0, SEEK_CUR), SyscallFailsWithErrno(ESPIPE));
}

TEST_F(ReadWriteTest, WritevGathersAndReadvScatters) {
  FileDescriptor fd = OpenFile("", O_RDWR);
  char a[] = "abc", b[] = "", c[] = "defgh";
  struct iovec out[3] = {{a, 3}, {b, 0}, {c, 5}};
  EXPECT_THAT(writev(fd.get(), out, 3), SyscallSucceedsWithValue(8));
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  char x[2], y[4], z[10] = {};
  struct iovec in[3] = {{x, 2}, {y, 4}, {z, 10}};
  // readv "fills each buffer completely before proceeding to the next".
  EXPECT_THAT(readv(fd.get(), in, 3), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(x, 2), "ab");
  EXPECT_EQ(std::string(y, 4), "cdef");
  EXPECT_EQ(std::string(z, 2), "gh");
}

TEST_F(ReadWriteTest, VectorIoCountLimits) {
  FileDescriptor fd = OpenFile("abc", O_RDWR);
  char buf[4];
  struct iovec iov = {buf, sizeof(buf)};
  EXPECT_THAT(readv(fd.get(), &iov, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(writev(fd.get(), &iov, 0), SyscallSucceedsWithValue(0));
  // "EINVAL The vector count, iovcnt, is less than zero or greater than
  // the permitted maximum" (IOV_MAX).
  // Raw syscall: the libc prototype's access attribute rejects -1 at compile time.
  EXPECT_THAT(syscall(SYS_readv, fd.get(), &iov, -1), SyscallFailsWithErrno(EINVAL));
  std::vector<struct iovec> many(IOV_MAX + 1, iov);
  EXPECT_THAT(writev(fd.get(), many.data(), IOV_MAX + 1), SyscallFailsWithErrno(EINVAL));
}

TEST_F(ReadWriteTest, VectorIoBadIovIsEfault) {
  FileDescriptor fd = OpenFile("abc", O_RDWR);
  EXPECT_THAT(readv(fd.get(), static_cast<struct iovec*>(BadPointer()), 1),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(writev(fd.get(), static_cast<struct iovec*>(BadPointer()), 1),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(ReadWriteTest, PreadvPwritevUseOffset) {
  FileDescriptor fd = OpenFile("..........", O_RDWR);
  char a[] = "12", b[] = "34";
  struct iovec out[2] = {{a, 2}, {b, 2}};
  EXPECT_THAT(pwritev(fd.get(), out, 2, 3), SyscallSucceedsWithValue(4));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  char x[3], y[3];
  struct iovec in[2] = {{x, 3}, {y, 3}};
  EXPECT_THAT(preadv(fd.get(), in, 2, 2), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(x, 3) + std::string(y, 3), ".1234.");
  EXPECT_THAT(preadv(fd.get(), in, 2, -5), SyscallFailsWithErrno(EINVAL));
}

TEST_F(ReadWriteTest, LseekWhence) {
  FileDescriptor fd = OpenFile("0123456789", O_RDWR);
  EXPECT_THAT(lseek(fd.get(), 3, SEEK_SET), SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(fd.get(), 4, SEEK_CUR), SyscallSucceedsWithValue(7));
  EXPECT_THAT(lseek(fd.get(), -2, SEEK_CUR), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(fd.get(), -1, SEEK_END), SyscallSucceedsWithValue(9));
  char c;
  EXPECT_THAT(read(fd.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, '9');
}

TEST_F(ReadWriteTest, LseekPastEndThenWriteMakesHole) {
  FileDescriptor fd = OpenFile("ab", O_RDWR);
  // "lseek() allows the file offset to be set beyond the end of the file".
  EXPECT_THAT(lseek(fd.get(), 10, SEEK_END), SyscallSucceedsWithValue(12));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 2) << "seeking alone must not change the size";
  EXPECT_THAT(write(fd.get(), "c", 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 13);
  char buf[13];
  EXPECT_THAT(pread(fd.get(), buf, 13, 0), SyscallSucceedsWithValue(13));
  EXPECT_EQ(std::string(buf + 2, 10), std::string(10, '\0'));
}

TEST_F(ReadWriteTest, LseekErrors) {
  FileDescriptor fd = OpenFile("abc", O_RDWR);
  // "EINVAL whence is not valid. Or: the resulting file offset would be
  // negative".
  EXPECT_THAT(lseek(fd.get(), 0, 12345), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd.get(), -1, SEEK_SET), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd.get(), -10, SEEK_END), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(-1, 0, SEEK_SET), SyscallFailsWithErrno(EBADF));
  // SEEK_DATA: "ENXIO ... offset is beyond the end of the file".
  EXPECT_THAT(lseek(fd.get(), 100, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
}

TEST_F(ReadWriteTest, PipeReadReturnsWhatIsAvailable) {
  FileDescriptor r, w;
  MakePipe(&r, &w);
  EXPECT_THAT(write(w.get(), "xyz", 3), SyscallSucceedsWithValue(3));
  char buf[100];
  EXPECT_THAT(read(r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  w.reset();
  EXPECT_THAT(read(r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

}  // namespace
}  // namespace palisade::testing
