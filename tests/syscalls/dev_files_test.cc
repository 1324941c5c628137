// Device files beyond dev_test: null(4), zero(4), full(4), random(4)
// details (lseek, writev, poll, mmap), and tty(4) behaviour without a
// controlling terminal.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;

FileDescriptor Open(const char* path, int flags) {
  int fd = open(path, flags);
  if (fd < 0) DieErrno(std::string("open ") + path);
  return FileDescriptor(fd);
}

TEST(DevFilesTest, NullSeeksToZeroAndSwallowsVectors) {
  FileDescriptor n = Open("/dev/null", O_RDWR);
  EXPECT_THAT(lseek(n.get(), 1000, SEEK_SET), SyscallSucceedsWithValue(0));
  struct iovec iov[2] = {{const_cast<char*>("ab"), 2}, {const_cast<char*>("cde"), 3}};
  EXPECT_THAT(writev(n.get(), iov, 2), SyscallSucceedsWithValue(5));
  char buf[4];
  EXPECT_THAT(pread(n.get(), buf, sizeof(buf), 100), SyscallSucceedsWithValue(0));
  struct pollfd p = {n.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents & (POLLIN | POLLOUT), POLLIN | POLLOUT);
}

TEST(DevFilesTest, ZeroWritesSucceedAndSharedMappingIsZeroed) {
  FileDescriptor z = Open("/dev/zero", O_RDWR);
  EXPECT_THAT(write(z.get(), "data", 4), SyscallSucceedsWithValue(4));
  char buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_THAT(pread(z.get(), buf, sizeof(buf), 12345), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(buf, 8), std::string(8, '\0'));
  // A MAP_SHARED mapping of /dev/zero is shared anonymous memory.
  char* m = static_cast<char*>(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED, z.get(), 0));
  ASSERT_NE(m, MAP_FAILED);
  EXPECT_EQ(m[0], 0);
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    m[0] = 'c';
    return 0;
  }), 0));
  EXPECT_EQ(m[0], 'c');
  munmap(m, PageSize());
}

TEST(DevFilesTest, FullRejectsEveryWriteWithEnospc) {
  FileDescriptor f = Open("/dev/full", O_RDWR);
  struct iovec iov = {const_cast<char*>("x"), 1};
  EXPECT_THAT(writev(f.get(), &iov, 1), SyscallFailsWithErrno(ENOSPC));
  EXPECT_THAT(pwrite(f.get(), "x", 1, 10), SyscallFailsWithErrno(ENOSPC));
  // Even a zero-length write fails (Linux's write_full ignores the count).
  EXPECT_THAT(write(f.get(), "", 0), SyscallFailsWithErrno(ENOSPC));
  char buf[4] = {1, 1, 1, 1};
  EXPECT_THAT(read(f.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), std::string(4, '\0'));
  EXPECT_THAT(lseek(f.get(), 99, SEEK_SET), SyscallSucceedsWithValue(0));
}

TEST(DevFilesTest, RandomDevicesArePollableAndAcceptWrites) {
  for (const char* path : {"/dev/random", "/dev/urandom"}) {
    FileDescriptor r = Open(path, O_RDWR);
    struct pollfd p = {r.get(), POLLIN, 0};
    ASSERT_THAT(poll(&p, 1, 1000), SyscallSucceedsWithValue(1)) << path;
    EXPECT_TRUE(p.revents & POLLIN) << path;
    // Writing mixes data into the pool; it is not an error.
    EXPECT_THAT(write(r.get(), "seed", 4), SyscallSucceedsWithValue(4)) << path;
    unsigned char a[32], b[32];
    ASSERT_THAT(read(r.get(), a, sizeof(a)), SyscallSucceedsWithValue(32));
    ASSERT_THAT(read(r.get(), b, sizeof(b)), SyscallSucceedsWithValue(32));
    EXPECT_NE(memcmp(a, b, sizeof(a)), 0) << path;
    struct stat st;
    ASSERT_THAT(fstat(r.get(), &st), SyscallSucceeds());
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 1u);
  }
}

TEST(DevFilesTest, MemoryDevicesAreNotTerminals) {
  FileDescriptor n = Open("/dev/null", O_RDWR);
  struct termios tio;
  EXPECT_THAT(ioctl(n.get(), TCGETS, &tio), SyscallFailsWithErrno(ENOTTY));
  EXPECT_EQ(isatty(n.get()), 0);
  EXPECT_EQ(errno, ENOTTY);
  int avail = -1;
  FileDescriptor z = Open("/dev/zero", O_RDONLY);
  EXPECT_THAT(ioctl(z.get(), FIONREAD, &avail), SyscallFailsWithErrno(AnyOf(ENOTTY, EINVAL)));
}

TEST(DevFilesTest, DevTtyWithoutControllingTerminalIsEnxio) {
  // tty(4): /dev/tty is the controlling terminal; a new session has none.
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    CHILD_CHECK(setsid() > 0);
    errno = 0;
    CHILD_CHECK(open("/dev/tty", O_RDWR) == -1 && errno == ENXIO);
    return 0;
  }), 0));
}

TEST(DevFilesTest, OpeningDirectoryOfDevicesForWriteIsEisdir) {
  EXPECT_THAT(open("/dev", O_WRONLY), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(open("/dev/null/x", O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open("/dev/no-such-device", O_RDONLY), SyscallFailsWithErrno(ENOENT));
}

}  // namespace
}  // namespace palisade::testing
