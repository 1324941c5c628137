// write(2)/writev(2)/pwrite(2) from buffers that are only partly readable,
// and from a shared mapping of the file being written, from the man pages.
// write(2): "EFAULT buf is outside your accessible address space", and
// "the number of bytes written may be less than count": Linux copies up to
// the first byte it cannot read and returns that count, failing with
// EFAULT only when no byte could be read.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

class WriteFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    // Two pages: readable data, then a hole or a PROT_NONE page.
    void* m = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(m, MAP_FAILED);
    buf_ = static_cast<char*>(m);
    memset(buf_, 'x', page_);
    int fd = open(dir_.Join("f").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_THAT(fd, SyscallSucceeds());
    fd_.reset(fd);
  }
  void TearDown() override { munmap(buf_, 2 * page_); }
  off_t Size() {
    struct stat st;
    EXPECT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
    return st.st_size;
  }

  TempDir dir_;
  FileDescriptor fd_;
  size_t page_ = 0;
  char* buf_ = nullptr;
};

TEST_F(WriteFaultTest, StopsBeforeUnmappedPage) {
  ASSERT_THAT(munmap(buf_ + page_, page_), SyscallSucceeds());
  EXPECT_THAT(write(fd_.get(), buf_, 2 * page_), SyscallSucceedsWithValue(page_));
  // The count is exact to the byte, not rounded to pages.
  EXPECT_THAT(write(fd_.get(), buf_ + page_ - 96, 2 * page_), SyscallSucceedsWithValue(96));
  EXPECT_THAT(write(fd_.get(), buf_ + page_, page_), SyscallFailsWithErrno(EFAULT));
  EXPECT_EQ(Size(), static_cast<off_t>(page_ + 96));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(page_ + 96));
  std::string back(page_ + 96, '\0');
  EXPECT_THAT(pread(fd_.get(), back.data(), back.size(), 0), SyscallSucceedsWithValue(back.size()));
  EXPECT_EQ(back, std::string(page_ + 96, 'x'));
}

TEST_F(WriteFaultTest, StopsBeforeProtNonePage) {
  ASSERT_THAT(mprotect(buf_ + page_, page_, PROT_NONE), SyscallSucceeds());
  EXPECT_THAT(pwrite(fd_.get(), buf_ + page_ - 10, 20, 0), SyscallSucceedsWithValue(10));
  EXPECT_THAT(pwrite(fd_.get(), buf_ + page_, 20, 0), SyscallFailsWithErrno(EFAULT));
  EXPECT_EQ(Size(), 10);
}

TEST_F(WriteFaultTest, WritevStopsAtBadIovec) {
  ASSERT_THAT(munmap(buf_ + page_, page_), SyscallSucceeds());
  struct iovec iov[3] = {{buf_, 5}, {buf_ + page_, 10}, {buf_, 5}};
  EXPECT_THAT(writev(fd_.get(), iov, 3), SyscallSucceedsWithValue(5));
  struct iovec bad_first[2] = {{buf_ + page_, 10}, {buf_, 5}};
  EXPECT_THAT(writev(fd_.get(), bad_first, 2), SyscallFailsWithErrno(EFAULT));
  EXPECT_EQ(Size(), 5);
}

TEST_F(WriteFaultTest, AppendStopsBeforeUnmappedPage) {
  ASSERT_THAT(write(fd_.get(), "head", 4), SyscallSucceedsWithValue(4));
  ASSERT_THAT(munmap(buf_ + page_, page_), SyscallSucceeds());
  int fd = open(dir_.Join("f").c_str(), O_WRONLY | O_APPEND);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor app(fd);
  EXPECT_THAT(write(app.get(), buf_ + page_ - 3, 100), SyscallSucceedsWithValue(3));
  EXPECT_EQ(Size(), 7);
}

// The source is the file's own pages: the copy must neither deadlock nor
// read anything but the bytes as they were.
TEST_F(WriteFaultTest, FromSharedMappingOfSameFile) {
  std::string data(page_, 'a');
  data += std::string(page_, 'b');
  ASSERT_THAT(pwrite(fd_.get(), data.data(), data.size(), 0), SyscallSucceedsWithValue(data.size()));
  void* m = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  ASSERT_NE(m, MAP_FAILED);
  char* map = static_cast<char*>(m);
  EXPECT_THAT(pwrite(fd_.get(), map, page_, page_), SyscallSucceedsWithValue(page_));
  EXPECT_EQ(std::string(map + page_, page_), std::string(page_, 'a'));
  // Overlapping source and destination within one file.
  EXPECT_THAT(pwrite(fd_.get(), map + page_ / 2, page_, 0), SyscallSucceedsWithValue(page_));
  EXPECT_EQ(Size(), static_cast<off_t>(2 * page_));
  munmap(m, 2 * page_);
}

}  // namespace
}  // namespace palisade::testing
