// The memory devices of mem(4)/null(4)/random(4): /dev/null, /dev/zero,
// /dev/full and /dev/urandom (and /dev/random), plus the /dev/fd link that
// container runtimes provide.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

FileDescriptor Open(const char* path, int flags) {
  int fd = open(path, flags);
  EXPECT_THAT(fd, SyscallSucceeds()) << path;
  return FileDescriptor(fd);
}

void ExpectCharDevice(const char* path, unsigned maj, unsigned min) {
  struct stat st;
  ASSERT_THAT(stat(path, &st), SyscallSucceeds()) << path;
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << path;
  EXPECT_EQ(major(st.st_rdev), maj) << path;
  EXPECT_EQ(minor(st.st_rdev), min) << path;
  // Everyone may read and write these devices.
  EXPECT_EQ(st.st_mode & 0666, 0666u) << path;
}

TEST(DevTest, DeviceNumbers) {
  ExpectCharDevice("/dev/null", 1, 3);
  ExpectCharDevice("/dev/zero", 1, 5);
  ExpectCharDevice("/dev/full", 1, 7);
  ExpectCharDevice("/dev/random", 1, 8);
  ExpectCharDevice("/dev/urandom", 1, 9);
}

TEST(DevTest, NullDiscardsWritesAndReadsEof) {
  FileDescriptor fd = Open("/dev/null", O_RDWR);
  char buf[64] = "data";
  EXPECT_THAT(write(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(64));
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd.get(), 1000, SEEK_SET), SyscallSucceedsWithValue(0));
  struct pollfd p = {fd.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN | POLLOUT);
}

TEST(DevTest, ZeroReadsZeros) {
  FileDescriptor fd = Open("/dev/zero", O_RDWR);
  std::string buf(100000, '\xff');
  EXPECT_THAT(read(fd.get(), buf.data(), buf.size()), SyscallSucceedsWithValue(100000));
  EXPECT_EQ(buf, std::string(100000, '\0'));
  EXPECT_THAT(write(fd.get(), "abc", 3), SyscallSucceedsWithValue(3));
}

TEST(DevTest, ZeroPrivateMappingIsZeroedMemory) {
  FileDescriptor fd = Open("/dev/zero", O_RDWR);
  const size_t len = 4 * PageSize();
  char* p = static_cast<char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[len - 1], 0);
  p[10] = 'w';
  EXPECT_EQ(p[10], 'w');
  munmap(p, len);
}

TEST(DevTest, FullIsAlwaysFull) {
  FileDescriptor fd = Open("/dev/full", O_RDWR);
  // "Writes to the /dev/full device fail with an ENOSPC error."
  EXPECT_THAT(write(fd.get(), "x", 1), SyscallFailsWithErrno(ENOSPC));
  // "Reads from the /dev/full device will return \0 characters."
  char buf[16];
  memset(buf, 'q', sizeof(buf));
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(16));
  EXPECT_EQ(std::string(buf, 16), std::string(16, '\0'));
}

TEST(DevTest, UrandomGivesRandomBytes) {
  FileDescriptor fd = Open("/dev/urandom", O_RDONLY);
  unsigned char a[256], b[256], zero[256] = {};
  ASSERT_THAT(read(fd.get(), a, sizeof(a)), SyscallSucceedsWithValue(256));
  ASSERT_THAT(read(fd.get(), b, sizeof(b)), SyscallSucceedsWithValue(256));
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
  EXPECT_NE(memcmp(a, zero, sizeof(a)), 0);
  // Every byte value is about equally likely: in 64 KiB none is missing.
  std::string big(65536, '\0');
  ASSERT_THAT(read(fd.get(), big.data(), big.size()), SyscallSucceedsWithValue(65536));
  bool seen[256] = {};
  for (unsigned char c : big) seen[c] = true;
  for (int v = 0; v < 256; v++) EXPECT_TRUE(seen[v]) << "byte value " << v << " never seen";
}

TEST(DevTest, RandomReadsWithoutBlockingForever) {
  FileDescriptor fd = Open("/dev/random", O_RDONLY | O_NONBLOCK);
  unsigned char buf[32];
  // Since Linux 5.6 /dev/random blocks only until the pool is initialised.
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(32));
}

TEST(DevTest, DevFdPointsAtOwnDescriptors) {
  FileDescriptor fd = Open("/dev/null", O_RDONLY);
  struct stat via_dev_fd, direct;
  ASSERT_THAT(stat(("/dev/fd/" + std::to_string(fd.get())).c_str(), &via_dev_fd),
              SyscallSucceeds());
  ASSERT_THAT(fstat(fd.get(), &direct), SyscallSucceeds());
  EXPECT_EQ(via_dev_fd.st_rdev, direct.st_rdev);
}

}  // namespace
}  // namespace palisade::testing
