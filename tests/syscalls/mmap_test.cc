// mmap(2), munmap(2), mprotect(2), mremap(2), madvise(2), msync(2) and
// brk(2)/sbrk(3): anonymous and file mappings, MAP_FIXED, faults caught
// with their si_addr, and sharing across fork.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

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

class MmapTest : public ::testing::Test {
 protected:
  const size_t kPage = PageSize();
  char* MapAnon(size_t len, int prot = PROT_READ | PROT_WRITE, int flags = MAP_PRIVATE) {
    void* p = mmap(nullptr, len, prot, flags | MAP_ANONYMOUS, -1, 0);
    EXPECT_THAT(p, SyscallSucceeds());
    return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  FileDescriptor OpenFile(const std::string& contents, int flags) {
    std::string p = dir_.CreateFile("f" + std::to_string(files_++), contents);
    int fd = open(p.c_str(), flags);
    EXPECT_THAT(fd, SyscallSucceeds());
    return FileDescriptor(fd);
  }
  TempDir dir_;
  int files_ = 0;
};

TEST_F(MmapTest, AnonymousMappingIsZeroedAndWritable) {
  char* p = MapAnon(4 * kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kPage, 0u);
  for (size_t i = 0; i < 4 * kPage; i += 512) ASSERT_EQ(p[i], 0) << "offset " << i;
  memset(p, 0xab, 4 * kPage);
  EXPECT_EQ(static_cast<unsigned char>(p[4 * kPage - 1]), 0xab);
  EXPECT_THAT(munmap(p, 4 * kPage), SyscallSucceeds());
}

TEST_F(MmapTest, ArgumentErrors) {
  // "EINVAL (since Linux 2.6.12) length was 0."
  EXPECT_THAT(mmap(nullptr, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  // "EINVAL flags contained none of MAP_PRIVATE, MAP_SHARED, or
  // MAP_SHARED_VALIDATE."
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  FileDescriptor fd = OpenFile(std::string(kPage, 'x'), O_RDWR);
  // "EINVAL ... offset ... not aligned on a page boundary".
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, fd.get(), 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mmap(reinterpret_cast<void*>(0x10001), kPage, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  // "EBADF fd is not a valid file descriptor (and MAP_ANONYMOUS was not set)."
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, -1, 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(MmapTest, AccessModeErrors) {
  FileDescriptor wo = OpenFile("data", O_WRONLY);
  // "EACCES A file descriptor refers to a non-regular file. Or a file
  // mapping was requested, but fd is not open for reading."
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, wo.get(), 0),
              SyscallFailsWithErrno(EACCES));
  FileDescriptor ro = OpenFile("data", O_RDONLY);
  // "Or MAP_SHARED was requested and PROT_WRITE is set, but fd is not open
  // in read/write (O_RDWR) mode."
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, ro.get(), 0),
              SyscallFailsWithErrno(EACCES));
  // A private writable copy of a read-only file is fine.
  void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro.get(), 0);
  EXPECT_THAT(p, SyscallSucceeds());
  if (p != MAP_FAILED) munmap(p, kPage);
}

TEST_F(MmapTest, PrivateFileMappingIsCopyOnWrite) {
  FileDescriptor fd = OpenFile("file contents", O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  EXPECT_EQ(std::string(p, 13), "file contents");
  EXPECT_EQ(p[13], 0) << "the rest of the last page reads as zeros";
  memcpy(p, "FILE", 4);
  char buf[4];
  ASSERT_THAT(pread(fd.get(), buf, 4, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "file") << "MAP_PRIVATE writes must not reach the file";
  munmap(p, kPage);
}

TEST_F(MmapTest, SharedFileMappingWritesReachFile) {
  FileDescriptor fd = OpenFile(std::string(kPage, '.'), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  memcpy(p + 10, "shared", 6);
  EXPECT_THAT(msync(p, kPage, MS_SYNC), SyscallSucceeds());
  char buf[6];
  ASSERT_THAT(pread(fd.get(), buf, 6, 10), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "shared");
  // And file writes show up in the mapping.
  ASSERT_THAT(pwrite(fd.get(), "XY", 2, 100), SyscallSucceeds());
  EXPECT_EQ(std::string(p + 100, 2), "XY");
  EXPECT_THAT(msync(p, kPage, MS_SYNC | MS_ASYNC), SyscallFailsWithErrno(EINVAL));
  munmap(p, kPage);
}

TEST_F(MmapTest, MappingPastEndOfFileRaisesSigbus) {
  FileDescriptor fd = OpenFile("short", O_RDONLY);
  char* p = static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ, MAP_PRIVATE, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  EXPECT_FALSE(TouchMemory(p + 10, false).faulted);
  // "SIGBUS Attempted access to a page of the buffer that lies beyond the
  // end of the mapped file."
  FaultResult r = TouchMemory(p + kPage, false);
  EXPECT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGBUS);
  EXPECT_EQ(r.info.si_addr, p + kPage);
  munmap(p, 2 * kPage);
}

TEST_F(MmapTest, MapFixedReplacesPartOfMapping) {
  char* p = MapAnon(3 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'a', 3 * kPage);
  FileDescriptor fd = OpenFile(std::string(kPage, 'f'), O_RDONLY);
  void* q = mmap(p + kPage, kPage, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd.get(), 0);
  ASSERT_THAT(q, SyscallSucceeds());
  EXPECT_EQ(q, p + kPage);
  EXPECT_EQ(p[0], 'a');
  EXPECT_EQ(p[kPage], 'f');
  EXPECT_EQ(p[2 * kPage], 'a');
  // MAP_FIXED_NOREPLACE refuses: "EEXIST ... the range ... overlaps an
  // existing mapping."
  EXPECT_THAT(mmap(p, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
              SyscallFailsWithErrno(EEXIST));
  munmap(p, 3 * kPage);
}

TEST_F(MmapTest, MunmapThenAccessFaultsWithAddress) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  p[kPage] = 1;
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  EXPECT_FALSE(TouchMemory(p, true).faulted);
  FaultResult r = TouchMemory(p + kPage + 8, false);
  EXPECT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGSEGV);
  EXPECT_EQ(r.info.si_addr, p + kPage + 8);
  EXPECT_EQ(r.info.si_code, SEGV_MAPERR);
  // Unmapping a hole is fine.
  EXPECT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  munmap(p, kPage);
}

TEST_F(MmapTest, MunmapErrors) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(munmap(p + 1, kPage), SyscallFailsWithErrno(EINVAL));
  // "EINVAL (since Linux 2.6.12) length was 0." (munmap shares mmap's list)
  EXPECT_THAT(munmap(p, 0), SyscallFailsWithErrno(EINVAL));
  munmap(p, kPage);
}

TEST_F(MmapTest, MprotectReadOnlyFaultsOnWrite) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  p[0] = 'x';
  ASSERT_THAT(mprotect(p, kPage, PROT_READ), SyscallSucceeds());
  EXPECT_FALSE(TouchMemory(p, false).faulted);
  FaultResult r = TouchMemory(p + 100, true);
  EXPECT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGSEGV);
  EXPECT_EQ(r.info.si_addr, p + 100);
  EXPECT_EQ(r.info.si_code, SEGV_ACCERR);
  EXPECT_EQ(p[0], 'x');
  ASSERT_THAT(mprotect(p, kPage, PROT_NONE), SyscallSucceeds());
  EXPECT_TRUE(TouchMemory(p, false).faulted);
  ASSERT_THAT(mprotect(p, kPage, PROT_READ | PROT_WRITE), SyscallSucceeds());
  EXPECT_FALSE(TouchMemory(p, true).faulted);
  munmap(p, kPage);
}

TEST_F(MmapTest, MprotectErrors) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(mprotect(p + 1, kPage, PROT_READ), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mprotect(p, kPage, 0x1000000), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  // "ENOMEM Addresses in the range [addr, addr+len-1] are invalid for the
  // address space of the process, or specify one or more pages that are not
  // mapped."
  EXPECT_THAT(mprotect(p, 2 * kPage, PROT_READ), SyscallFailsWithErrno(ENOMEM));
  munmap(p, kPage);
}

TEST_F(MmapTest, SbrkGrowsAndShrinksHeap) {
  void* start = sbrk(0);
  ASSERT_THAT(start, SyscallSucceeds());
  void* old = sbrk(static_cast<intptr_t>(4 * kPage));
  ASSERT_THAT(old, SyscallSucceeds());
  EXPECT_EQ(old, start);
  char* mem = static_cast<char*>(old);
  memset(mem, 'h', 4 * kPage);
  EXPECT_EQ(mem[4 * kPage - 1], 'h');
  EXPECT_EQ(sbrk(0), mem + 4 * kPage);
  ASSERT_THAT(sbrk(-static_cast<intptr_t>(4 * kPage)), SyscallSucceeds());
  EXPECT_EQ(sbrk(0), start);
}

TEST_F(MmapTest, MremapGrowsAndKeepsContents) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  memcpy(p, "remap", 5);
  void* q = mremap(p, kPage, 16 * kPage, MREMAP_MAYMOVE);
  ASSERT_THAT(q, SyscallSucceeds());
  char* n = static_cast<char*>(q);
  EXPECT_EQ(std::string(n, 5), "remap");
  n[16 * kPage - 1] = 'e';
  // Shrinking happens in place.
  EXPECT_EQ(mremap(n, 16 * kPage, kPage, 0), n);
  EXPECT_TRUE(TouchMemory(n + 8 * kPage, false).faulted);
  // "EINVAL ... MREMAP_FIXED was specified without also specifying
  // MREMAP_MAYMOVE"; "old_address was not page aligned".
  EXPECT_THAT(mremap(n, kPage, 2 * kPage, MREMAP_FIXED, n + 4 * kPage),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(n + 1, kPage, 2 * kPage, MREMAP_MAYMOVE), SyscallFailsWithErrno(EINVAL));
  munmap(n, kPage);
}

TEST_F(MmapTest, MadviseDontneedZeroesAnonymousMemory) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'z', 2 * kPage);
  ASSERT_THAT(madvise(p, 2 * kPage, MADV_DONTNEED), SyscallSucceeds());
  // Private anonymous pages come back zero-filled.
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[2 * kPage - 1], 0);
  EXPECT_THAT(madvise(p, kPage, 12345), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(madvise(p + 1, kPage, MADV_DONTNEED), SyscallFailsWithErrno(EINVAL));
  munmap(p, 2 * kPage);
}

TEST_F(MmapTest, MadviseDontneedRereadsPrivateFileMapping) {
  FileDescriptor fd = OpenFile(std::string(kPage, 'o'), O_RDONLY);
  char* p = static_cast<char*>(
      mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  p[0] = 'W';
  ASSERT_THAT(madvise(p, kPage, MADV_DONTNEED), SyscallSucceeds());
  // "repopulate the memory contents from the up-to-date contents of the
  // underlying mapped file".
  EXPECT_EQ(p[0], 'o');
  munmap(p, kPage);
}

TEST_F(MmapTest, SharedAnonymousMappingIsSharedAcrossFork) {
  char* shared = MapAnon(kPage, PROT_READ | PROT_WRITE, MAP_SHARED);
  char* priv = MapAnon(kPage);
  ASSERT_NE(shared, nullptr);
  ASSERT_NE(priv, nullptr);
  shared[0] = 'p';
  priv[0] = 'p';
  int status = RunInChild([&] {
    CHILD_CHECK(shared[0] == 'p' && priv[0] == 'p');
    shared[0] = 'c';
    priv[0] = 'c';
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  EXPECT_EQ(shared[0], 'c') << "MAP_SHARED: the child's write is visible";
  EXPECT_EQ(priv[0], 'p') << "MAP_PRIVATE: the child wrote its own copy";
  munmap(shared, kPage);
  munmap(priv, kPage);
}

// "MAP_SHARED Share this mapping. Updates to the mapping are visible to
// other processes mapping the same region, and (in the case of file-backed
// mappings) are carried through to the underlying file." msync is only
// about writeback: read() and the mapping see the same pages at once.
TEST_F(MmapTest, StoreThroughSharedMappingIsSeenByRead) {
  FileDescriptor fd = OpenFile(std::string(2 * kPage, '.'), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  memcpy(p + kPage + 5, "direct", 6);
  char buf[6];
  ASSERT_THAT(pread(fd.get(), buf, 6, kPage + 5), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "direct");
  // A second mapping of the same file sees the same pages.
  char* q = static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(q, SyscallSucceeds());
  EXPECT_EQ(std::string(q + kPage + 5, 6), "direct");
  ASSERT_THAT(pwrite(fd.get(), "again", 5, 7), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(p + 7, 5), "again");
  EXPECT_EQ(std::string(q + 7, 5), "again");
  munmap(q, 2 * kPage);
  munmap(p, 2 * kPage);
}

TEST_F(MmapTest, SharedFileMappingIsSharedWithForkedChild) {
  FileDescriptor fd = OpenFile(std::string(kPage, '.'), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  p[0] = 'p';
  int status = RunInChild([&] {
    CHILD_CHECK(p[0] == 'p');
    p[1] = 'c';  // through the inherited mapping
    CHILD_CHECK(pwrite(fd.get(), "w", 1, 2) == 1);  // through the file
    return 0;
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  EXPECT_EQ(std::string(p, 3), "pcw");
  char buf[3];
  ASSERT_THAT(pread(fd.get(), buf, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "pcw");
  munmap(p, kPage);
}

TEST_F(MmapTest, SharedFileMappingOfAFileMappedByAnotherProcess) {
  FileDescriptor fd = OpenFile(std::string(kPage, '.'), O_RDWR);
  // The child maps the file itself (not inherited) and stores into it.
  int status = RunInChild([&] {
    char* c = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
    CHILD_CHECK(c != MAP_FAILED);
    memcpy(c + 100, "child", 5);
    return 0;  // exits without msync or munmap
  });
  EXPECT_TRUE(ExitedWith(status, 0));
  char* p = static_cast<char*>(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  EXPECT_EQ(std::string(p + 100, 5), "child");
  munmap(p, kPage);
}

// "SIGBUS Attempted access to a page of the buffer that lies beyond the
// end of the mapped file" -- also after the file shrank under the mapping.
TEST_F(MmapTest, TruncatingSharedMappedFileRaisesSigbusPastEnd) {
  FileDescriptor fd = OpenFile(std::string(3 * kPage, 'x'), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, 3 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  EXPECT_EQ(p[2 * kPage], 'x');  // mapped now
  ASSERT_THAT(ftruncate(fd.get(), kPage + 10), SyscallSucceeds());
  EXPECT_EQ(p[kPage + 9], 'x');
  EXPECT_EQ(p[kPage + 10], 0) << "the rest of the page holding end of file reads as zeros";
  FaultResult r = TouchMemory(p + 2 * kPage, false);
  EXPECT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGBUS);
  EXPECT_EQ(r.info.si_addr, p + 2 * kPage);
  // Growing the file again makes the page part of it, reading zeros.
  ASSERT_THAT(ftruncate(fd.get(), 3 * kPage), SyscallSucceeds());
  EXPECT_FALSE(TouchMemory(p + 2 * kPage, false).faulted);
  EXPECT_EQ(p[2 * kPage], 0);
  munmap(p, 3 * kPage);
}

// MAP_PRIVATE: "Updates to the mapping are not visible to other processes
// mapping the same file": once a page is written, it is this mapping's own.
TEST_F(MmapTest, PrivateFileMappingKeepsItsCopyAfterWrite) {
  FileDescriptor fd = OpenFile(std::string(kPage, 'o'), O_RDWR);
  char* priv = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0));
  ASSERT_THAT(priv, SyscallSucceeds());
  char* shared = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(shared, SyscallSucceeds());
  priv[0] = 'P';
  shared[0] = 'S';
  shared[1] = 'S';
  ASSERT_THAT(pwrite(fd.get(), "W", 1, 2), SyscallSucceedsWithValue(1));
  EXPECT_EQ(priv[0], 'P');
  EXPECT_EQ(std::string(shared, 3), "SSW");
  munmap(shared, kPage);
  munmap(priv, kPage);
}

TEST_F(MmapTest, PunchingAHoleZeroesSharedMapping) {
  FileDescriptor fd = OpenFile(std::string(2 * kPage, 'h'), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_THAT(p, SyscallSucceeds());
  EXPECT_EQ(p[0], 'h');
  ASSERT_THAT(fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, kPage), SyscallSucceeds());
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[kPage], 'h');
  p[1] = 'n';  // the page can be written again, and read() sees it
  char b;
  ASSERT_THAT(pread(fd.get(), &b, 1, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(b, 'n');
  munmap(p, 2 * kPage);
}

TEST_F(MmapTest, LargeSparseMappingTouchesFewPages) {
  const size_t len = 256u << 20;  // 256 MiB of address space.
  char* p = MapAnon(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
  ASSERT_NE(p, nullptr);
  for (size_t off = 0; off < len; off += 32u << 20) p[off] = 1;
  EXPECT_EQ(p[len - (32u << 20)], 1);
  EXPECT_THAT(munmap(p, len), SyscallSucceeds());
}

}  // namespace
}  // namespace palisade::testing
