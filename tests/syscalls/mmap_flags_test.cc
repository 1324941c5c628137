// mmap(2) flags and related calls: MAP_FIXED_NOREPLACE, MAP_GROWSDOWN,
// MAP_POPULATE, mincore(2), msync(2), mlock(2)/mlockall(2), madvise(2)
// and MAP_PRIVATE copy-on-write of a file.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

using ::testing::AnyOf;

char* Map(size_t len, int prot = PROT_READ | PROT_WRITE, int flags = MAP_PRIVATE | MAP_ANONYMOUS) {
  void* p = mmap(nullptr, len, prot, flags, -1, 0);
  if (p == MAP_FAILED) DieErrno("mmap");
  return static_cast<char*>(p);
}

TEST(MmapFlagsTest, FixedNoreplaceRefusesToClobber) {
  const size_t pg = PageSize();
  char* p = Map(2 * pg);
  p[0] = 'k';
  // "MAP_FIXED_NOREPLACE ... If the requested range would collide with an
  // existing mapping, then this call fails with the error EEXIST."
  EXPECT_THAT(mmap(p + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_EQ(p[0], 'k');
  ASSERT_THAT(munmap(p + pg, pg), SyscallSucceeds());
  void* q = mmap(p + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT_EQ(q, p + pg);
  munmap(p, 2 * pg);
}

TEST(MmapFlagsTest, FixedRequiresAlignedAddress) {
  char* p = Map(PageSize());
  EXPECT_THAT(mmap(p + 1, PageSize(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  // A hint (no MAP_FIXED) need not be aligned: it is only a hint.
  void* q = mmap(p + 1, PageSize(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(q, MAP_FAILED);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % PageSize(), 0u);
  munmap(q, PageSize());
  munmap(p, PageSize());
}

TEST(MmapFlagsTest, GrowsdownMappingIsUsable) {
  const size_t pg = PageSize();
  char* p = Map(4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
  p[4 * pg - 1] = 'g';
  p[0] = 'h';
  EXPECT_EQ(p[4 * pg - 1], 'g');
  munmap(p, 4 * pg);
}

TEST(MmapFlagsTest, MincoreReportsResidentPages) {
  const size_t pg = PageSize();
  char* p = Map(4 * pg);
  p[0] = 1;
  p[2 * pg] = 1;
  std::vector<unsigned char> vec(4, 0xff);
  ASSERT_THAT(mincore(p, 4 * pg, vec.data()), SyscallSucceeds());
  EXPECT_EQ(vec[0] & 1, 1);
  EXPECT_EQ(vec[2] & 1, 1);
  // "The settings of the other bits in each byte are undefined" -- only
  // bit 0 is meaningful; untouched anonymous pages are not resident.
  EXPECT_EQ(vec[1] & 1, 0);
  EXPECT_EQ(vec[3] & 1, 0);
  // Errors.
  EXPECT_THAT(mincore(p + 1, pg, vec.data()), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mincore(p, pg, static_cast<unsigned char*>(BadPointer())), SyscallFailsWithErrno(EFAULT));
  munmap(p, 4 * pg);
  EXPECT_THAT(mincore(p, pg, vec.data()), SyscallFailsWithErrno(ENOMEM));
}

TEST(MmapFlagsTest, PopulatedMappingIsResident) {
  const size_t pg = PageSize();
  char* p = Map(3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE);
  std::vector<unsigned char> vec(3);
  ASSERT_THAT(mincore(p, 3 * pg, vec.data()), SyscallSucceeds());
  EXPECT_EQ(vec[0] & vec[1] & vec[2] & 1, 1);
  munmap(p, 3 * pg);
}

TEST(MmapFlagsTest, MsyncWritesSharedMappingToFile) {
  TempDir dir;
  std::string f = dir.CreateFile("f", std::string(PageSize(), '.'));
  int fd = open(f.c_str(), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(p, MAP_FAILED);
  memcpy(p, "synced", 6);
  ASSERT_THAT(msync(p, PageSize(), MS_SYNC), SyscallSucceeds());
  char buf[6];
  ASSERT_THAT(pread(fd, buf, 6, 0), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "synced");
  EXPECT_THAT(msync(p, PageSize(), MS_ASYNC), SyscallSucceeds());
  EXPECT_THAT(msync(p, PageSize(), MS_INVALIDATE), SyscallSucceeds());
  // "EINVAL ... both MS_SYNC and MS_ASYNC are set in flags", bad flags,
  // unaligned address.
  EXPECT_THAT(msync(p, PageSize(), MS_SYNC | MS_ASYNC), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(p, PageSize(), 0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(p + 1, PageSize(), MS_SYNC), SyscallFailsWithErrno(EINVAL));
  munmap(p, PageSize());
  // "ENOMEM The indicated memory (or part of it) was not mapped."
  EXPECT_THAT(msync(p, PageSize(), MS_SYNC), SyscallFailsWithErrno(ENOMEM));
  close(fd);
}

TEST(MmapFlagsTest, SharedFileMappingWrittenBackAtMunmap) {
  TempDir dir;
  std::string f = dir.CreateFile("f", std::string(PageSize(), '.'));
  int fd = open(f.c_str(), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(p, MAP_FAILED);
  close(fd);  // the mapping keeps the file
  memcpy(p + 10, "late", 4);
  ASSERT_THAT(munmap(p, PageSize()), SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(f).substr(10, 4), "late");
}

TEST(MmapFlagsTest, PrivateFileMappingNeverReachesFile) {
  TempDir dir;
  std::string f = dir.CreateFile("f", "original");
  int fd = open(f.c_str(), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(std::string(p, 8), "original");
  memcpy(p, "CHANGED!", 8);
  ASSERT_THAT(msync(p, PageSize(), MS_SYNC), SyscallSucceeds());
  ASSERT_THAT(munmap(p, PageSize()), SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie(f), "original");
  // A forked child's writes to a private mapping stay in the child.
  p = static_cast<char*>(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    p[0] = 'X';
    return 0;
  }), 0));
  EXPECT_EQ(p[0], 'o');
  munmap(p, PageSize());
  close(fd);
}

TEST(MmapFlagsTest, SharedAnonymousVisibleBothWays) {
  int* shared = reinterpret_cast<int*>(Map(PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    char c;
    CHILD_CHECK(read(p[0], &c, 1) == 1);  // parent wrote *shared first
    CHILD_CHECK(shared[0] == 1234);
    shared[1] = 5678;
    return 0;
  });
  ASSERT_GT(pid, 0);
  shared[0] = 1234;
  ASSERT_THAT(write(p[1], "g", 1), SyscallSucceeds());
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  EXPECT_EQ(shared[1], 5678);
  close(p[0]);
  close(p[1]);
  munmap(shared, PageSize());
}

TEST(MmapFlagsTest, MlockFamily) {
  char* p = Map(2 * PageSize());
  EXPECT_THAT(mlock(p, 2 * PageSize()), SyscallSucceeds());
  EXPECT_THAT(munlock(p, 2 * PageSize()), SyscallSucceeds());
  // Unaligned start is rounded down, not an error.
  EXPECT_THAT(mlock(p + 10, 100), SyscallSucceeds());
  EXPECT_THAT(munlock(p + 10, 100), SyscallSucceeds());
  EXPECT_THAT(mlockall(0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mlockall(0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munlockall(), SyscallSucceeds());
  munmap(p, 2 * PageSize());
  // "ENOMEM ... some of the specified address range does not correspond to
  // mapped pages".
  EXPECT_THAT(mlock(p, PageSize()), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(munlock(p, PageSize()), SyscallFailsWithErrno(ENOMEM));
}

TEST(MmapFlagsTest, MadviseDontneedOnSharedAnonymousKeepsData) {
  // For shared memory MADV_DONTNEED only drops this process's page table
  // entries: the data stays in the shared object.
  char* p = Map(PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  p[0] = 's';
  ASSERT_THAT(madvise(p, PageSize(), MADV_DONTNEED), SyscallSucceeds());
  EXPECT_EQ(p[0], 's');
  munmap(p, PageSize());
}

TEST(MmapFlagsTest, MadviseAdviceAndErrors) {
  char* p = Map(2 * PageSize());
  EXPECT_THAT(madvise(p, 2 * PageSize(), MADV_NORMAL), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 2 * PageSize(), MADV_SEQUENTIAL), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 2 * PageSize(), MADV_RANDOM), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 2 * PageSize(), MADV_WILLNEED), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 2 * PageSize(), MADV_DONTFORK), SyscallSucceeds());
  // MADV_DONTFORK: the child does not get the range at all.
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    CHILD_CHECK(TouchMemory(p, false).faulted);
    return 0;
  }), 0));
  EXPECT_THAT(madvise(p, 2 * PageSize(), MADV_DOFORK), SyscallSucceeds());
  EXPECT_THAT(madvise(p + 1, PageSize(), MADV_NORMAL), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(madvise(p, PageSize(), 12345), SyscallFailsWithErrno(EINVAL));
  munmap(p, 2 * PageSize());
  EXPECT_THAT(madvise(p, PageSize(), MADV_NORMAL), SyscallFailsWithErrno(ENOMEM));
}

TEST(MmapFlagsTest, ZeroLengthAndHugeLengthErrors) {
  EXPECT_THAT(mmap(nullptr, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mmap(nullptr, ~size_t{0} - 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(ENOMEM));
  // Neither MAP_PRIVATE nor MAP_SHARED.
  EXPECT_THAT(mmap(nullptr, PageSize(), PROT_READ, MAP_ANONYMOUS, -1, 0), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace palisade::testing
