// mremap(2): growing in place or moving with MREMAP_MAYMOVE, MREMAP_FIXED,
// shrinking, MREMAP_DONTUNMAP, and errors; plus brk(2) edge cases.
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {
namespace {

char* Map(size_t len, int prot = PROT_READ | PROT_WRITE) {
  void* p = mmap(nullptr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) DieErrno("mmap");
  return static_cast<char*>(p);
}

void Fill(char* p, size_t n, char seed) {
  for (size_t i = 0; i < n; i++) p[i] = static_cast<char>(seed + i % 97);
}
bool Check(const char* p, size_t n, char seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != static_cast<char>(seed + i % 97)) return false;
  return true;
}

TEST(MremapTest, GrowWithoutMaymoveFailsWhenBlocked) {
  const size_t pg = PageSize();
  char* p = Map(3 * pg);
  ASSERT_THAT(munmap(p + pg, pg), SyscallSucceeds());  // hole after page 0
  // Page 2 is still mapped: growing page 0 to 3 pages would overlap.
  EXPECT_THAT(mremap(p, pg, 3 * pg, 0), SyscallFailsWithErrno(ENOMEM));
  // Growing into the free page works in place.
  void* q = mremap(p, pg, 2 * pg, 0);
  EXPECT_EQ(q, p);
  munmap(p, 3 * pg);
}

TEST(MremapTest, MaymoveMovesDataAndUnmapsOld) {
  const size_t pg = PageSize();
  char* p = Map(2 * pg);
  Fill(p, 2 * pg, 'a');
  char* blocker = static_cast<char*>(mmap(p + 2 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
  bool blocked = blocker == p + 2 * pg;
  char* q = static_cast<char*>(mremap(p, 2 * pg, 8 * pg, MREMAP_MAYMOVE));
  ASSERT_NE(q, MAP_FAILED);
  if (blocked) {
    EXPECT_NE(q, p);
  }
  EXPECT_TRUE(Check(q, 2 * pg, 'a'));
  // The new tail is zero-filled and writable.
  EXPECT_EQ(q[5 * pg], 0);
  q[8 * pg - 1] = 1;
  if (q != p) {
    FaultResult r = TouchMemory(p, false);
    EXPECT_TRUE(r.faulted) << "old range must be unmapped after a move";
  }
  munmap(q, 8 * pg);
  if (blocked) munmap(blocker, pg);
}

TEST(MremapTest, ShrinkUnmapsTail) {
  const size_t pg = PageSize();
  char* p = Map(4 * pg);
  Fill(p, 4 * pg, 'b');
  void* q = mremap(p, 4 * pg, pg, 0);
  ASSERT_EQ(q, p);
  EXPECT_TRUE(Check(p, pg, 'b'));
  EXPECT_TRUE(TouchMemory(p + 2 * pg, false).faulted);
  munmap(p, pg);
}

TEST(MremapTest, FixedMovesToChosenAddress) {
  const size_t pg = PageSize();
  char* src = Map(2 * pg);
  char* dst = Map(4 * pg);  // reserve a target; MREMAP_FIXED replaces it
  Fill(src, 2 * pg, 'c');
  void* q = mremap(src, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst + pg);
  ASSERT_EQ(q, dst + pg);
  EXPECT_TRUE(Check(dst + pg, 2 * pg, 'c'));
  EXPECT_TRUE(TouchMemory(src, false).faulted);
  // The rest of the old target mapping is untouched.
  EXPECT_FALSE(TouchMemory(dst, true).faulted);
  EXPECT_FALSE(TouchMemory(dst + 3 * pg, true).faulted);
  munmap(dst, 4 * pg);
}

TEST(MremapTest, DontunmapLeavesOldRangeMappedEmpty) {
  const size_t pg = PageSize();
  char* p = Map(pg);
  Fill(p, pg, 'd');
  void* q = mremap(p, pg, pg, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
  if (q == MAP_FAILED && errno == EINVAL) GTEST_SKIP() << "MREMAP_DONTUNMAP unsupported";
  ASSERT_NE(q, MAP_FAILED);
  EXPECT_TRUE(Check(static_cast<char*>(q), pg, 'd'));
  // The old range stays mapped; for private anonymous memory it reads as
  // zeros (fresh pages).
  EXPECT_FALSE(TouchMemory(p, false).faulted);
  EXPECT_EQ(p[0], 0);
  munmap(p, pg);
  munmap(q, pg);
}

TEST(MremapTest, Errors) {
  const size_t pg = PageSize();
  char* p = Map(2 * pg);
  EXPECT_THAT(mremap(p + 1, pg, 2 * pg, MREMAP_MAYMOVE), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(p, pg, 2 * pg, 0x80), SyscallFailsWithErrno(EINVAL));
  // MREMAP_FIXED without MREMAP_MAYMOVE.
  EXPECT_THAT(mremap(p, pg, pg, MREMAP_FIXED, p + pg), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(p, pg, 0, MREMAP_MAYMOVE), SyscallFailsWithErrno(EINVAL));
  // Overlapping source and target.
  EXPECT_THAT(mremap(p, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, p + pg), SyscallFailsWithErrno(EINVAL));
  munmap(p, 2 * pg);
  // "EFAULT Some address in the range old_address to old_address+old_size
  // is an invalid virtual memory address for this process."
  EXPECT_THAT(mremap(p, pg, 2 * pg, MREMAP_MAYMOVE), SyscallFailsWithErrno(EFAULT));
}

TEST(MremapTest, SharedAnonymousMoveKeepsSharingWithChild) {
  const size_t pg = PageSize();
  char* p = static_cast<char*>(mmap(nullptr, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  p[0] = 'x';
  char* q = static_cast<char*>(mremap(p, pg, 2 * pg, MREMAP_MAYMOVE));
  ASSERT_NE(q, MAP_FAILED);
  EXPECT_EQ(q[0], 'x');
  EXPECT_TRUE(ExitedWith(RunInChild([&] {
    q[0] = 'y';
    return 0;
  }), 0));
  EXPECT_EQ(q[0], 'y');
  // The shared memory object keeps its size: the grown part of the
  // mapping lies past its end, and touching it raises SIGBUS.
  FaultResult r = TouchMemory(q + pg, false);
  EXPECT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGBUS);
  munmap(q, 2 * pg);
}

// The brk tests run in children: moving the break under glibc's malloc in
// the test process itself could cut off memory malloc is using.
TEST(BrkTest, QueryGrowShrink) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    const uintptr_t pg = PageSize();
    uintptr_t cur = static_cast<uintptr_t>(syscall(SYS_brk, 0));
    CHILD_CHECK(cur != 0);
    // brk(2): "On failure, the system call returns the current break".
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, cur + (1ULL << 46))) == cur);
    uintptr_t want = cur + 5 * pg + 17;
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, want)) == want);
    volatile char* mem = reinterpret_cast<volatile char*>(cur);
    mem[0] = 1;
    mem[5 * pg + 16] = 2;
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, cur)) == cur);
    // Memory a page beyond the break is gone again.
    uintptr_t page_after = (cur + pg - 1) / pg * pg + pg;
    CHILD_CHECK(TouchMemory(reinterpret_cast<volatile char*>(page_after), false).faulted);
    // Below the start of the heap it fails (returns the current break).
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, pg)) == cur);
    return 0;
  }), 0));
}

TEST(BrkTest, RegrownHeapIsZeroed) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    const uintptr_t pg = PageSize();
    uintptr_t cur = static_cast<uintptr_t>(syscall(SYS_brk, 0));
    uintptr_t base = (cur + pg - 1) / pg * pg;
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, base + 2 * pg)) == base + 2 * pg);
    volatile char* m = reinterpret_cast<volatile char*>(base);
    m[pg] = 'q';
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, base)) == base);
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, base + 2 * pg)) == base + 2 * pg);
    CHILD_CHECK(m[pg] == 0);
    return 0;
  }), 0));
}

TEST(BrkTest, HeapIsCopiedByFork) {
  EXPECT_TRUE(ExitedWith(RunInChild([] {
    uintptr_t cur = static_cast<uintptr_t>(syscall(SYS_brk, 0));
    CHILD_CHECK(static_cast<uintptr_t>(syscall(SYS_brk, cur + PageSize())) == cur + PageSize());
    volatile char* m = reinterpret_cast<volatile char*>(cur);
    m[0] = 'p';
    pid_t c = fork();
    if (c == 0) {
      bool ok = static_cast<uintptr_t>(syscall(SYS_brk, 0)) == cur + PageSize() && m[0] == 'p';
      m[0] = 'c';
      _exit(ok ? 0 : 1);
    }
    CHILD_CHECK(WaitForStatus(c) == 0);
    CHILD_CHECK(m[0] == 'p');
    return 0;
  }), 0));
}

}  // namespace
}  // namespace palisade::testing
