// Memory protection faults, from mprotect(2), mmap(2) and sigaction(2)
// ("SIGSEGV: SEGV_MAPERR, SEGV_ACCERR"; "SIGBUS: BUS_ADRERR"): the signal,
// si_addr and si_code of each kind of bad access, and changing protection
// from inside the handler.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/signal_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

class MemoryFaultTest : public ::testing::Test {
 protected:
  char* Map(size_t pages, int prot, int flags = MAP_PRIVATE | MAP_ANONYMOUS) {
    void* p = mmap(nullptr, pages * PageSize(), prot, flags, -1, 0);
    if (p == MAP_FAILED) DieErrno("mmap");
    return static_cast<char*>(p);
  }
};

TEST_F(MemoryFaultTest, WriteToReadOnlyIsAccerrAtExactAddress) {
  char* p = Map(2, PROT_READ);
  FaultResult r = TouchMemory(p + PageSize() + 123, /*write=*/true);
  ASSERT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGSEGV);
  EXPECT_EQ(r.info.si_code, SEGV_ACCERR);
  EXPECT_EQ(r.info.si_addr, p + PageSize() + 123);
  // Reading is fine.
  EXPECT_FALSE(TouchMemory(p + 5, false).faulted);
  munmap(p, 2 * PageSize());
}

TEST_F(MemoryFaultTest, ProtNoneFaultsOnReadAndWrite) {
  char* p = Map(1, PROT_NONE);
  FaultResult r = TouchMemory(p + 7, false);
  ASSERT_TRUE(r.faulted);
  EXPECT_EQ(r.info.si_code, SEGV_ACCERR);
  EXPECT_EQ(r.info.si_addr, p + 7);
  r = TouchMemory(p, true);
  ASSERT_TRUE(r.faulted);
  EXPECT_EQ(r.info.si_code, SEGV_ACCERR);
  munmap(p, PageSize());
}

TEST_F(MemoryFaultTest, UnmappedAddressIsMaperr) {
  char* p = Map(3, PROT_READ | PROT_WRITE);
  ASSERT_THAT(munmap(p + PageSize(), PageSize()), SyscallSucceeds());
  FaultResult r = TouchMemory(p + PageSize() + 1, false);
  ASSERT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGSEGV);
  EXPECT_EQ(r.info.si_code, SEGV_MAPERR);
  EXPECT_EQ(r.info.si_addr, p + PageSize() + 1);
  // The neighbours are untouched.
  EXPECT_FALSE(TouchMemory(p, true).faulted);
  EXPECT_FALSE(TouchMemory(p + 2 * PageSize(), true).faulted);
  munmap(p, 3 * PageSize());
}

TEST_F(MemoryFaultTest, MprotectChangesAreImmediate) {
  char* p = Map(1, PROT_READ | PROT_WRITE);
  p[0] = 'a';
  ASSERT_THAT(mprotect(p, PageSize(), PROT_READ), SyscallSucceeds());
  EXPECT_TRUE(TouchMemory(p, true).faulted);
  EXPECT_EQ(p[0], 'a') << "data kept across mprotect";
  ASSERT_THAT(mprotect(p, PageSize(), PROT_READ | PROT_WRITE), SyscallSucceeds());
  EXPECT_FALSE(TouchMemory(p, true).faulted);
  ASSERT_THAT(mprotect(p, PageSize(), PROT_NONE), SyscallSucceeds());
  EXPECT_TRUE(TouchMemory(p, false).faulted);
  munmap(p, PageSize());
}

TEST_F(MemoryFaultTest, MprotectPartOfMappingSplitsIt) {
  char* p = Map(3, PROT_READ | PROT_WRITE);
  ASSERT_THAT(mprotect(p + PageSize(), PageSize(), PROT_READ), SyscallSucceeds());
  EXPECT_FALSE(TouchMemory(p, true).faulted);
  EXPECT_TRUE(TouchMemory(p + PageSize(), true).faulted);
  EXPECT_FALSE(TouchMemory(p + 2 * PageSize(), true).faulted);
  munmap(p, 3 * PageSize());
}

TEST_F(MemoryFaultTest, MprotectErrors) {
  char* p = Map(1, PROT_READ);
  EXPECT_THAT(mprotect(p + 1, PageSize(), PROT_READ), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mprotect(p, PageSize(), 0x100), SyscallFailsWithErrno(EINVAL));
  munmap(p, PageSize());
  // "ENOMEM Addresses in the range [addr, addr+len-1] are invalid".
  EXPECT_THAT(mprotect(p, PageSize(), PROT_READ), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(mprotect(p, 0, PROT_READ), SyscallSucceeds());
}

TEST_F(MemoryFaultTest, ReadOnlyFileSharedMappingCannotBecomeWritable) {
  // "EACCES ... a MAP_SHARED mapping ... PROT_WRITE ... file not open for
  // writing" applies to mprotect too.
  TempDir dir;
  std::string f = dir.CreateFile("f", std::string(PageSize(), 'x'));
  int fd = open(f.c_str(), O_RDONLY);
  void* p = mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_THAT(mprotect(p, PageSize(), PROT_READ | PROT_WRITE), SyscallFailsWithErrno(EACCES));
  // A private mapping of the same read-only file may become writable.
  void* q = mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd, 0);
  EXPECT_THAT(mprotect(q, PageSize(), PROT_READ | PROT_WRITE), SyscallSucceeds());
  munmap(p, PageSize());
  munmap(q, PageSize());
  close(fd);
}

TEST_F(MemoryFaultTest, AccessPastEndOfFileIsSigbusAdrerr) {
  TempDir dir;
  std::string f = dir.CreateFile("f", "short");
  int fd = open(f.c_str(), O_RDONLY);
  char* p = static_cast<char*>(mmap(nullptr, 2 * PageSize(), PROT_READ, MAP_PRIVATE, fd, 0));
  ASSERT_NE(p, MAP_FAILED);
  close(fd);
  // Inside the last page of the file: readable zeros past EOF.
  EXPECT_FALSE(TouchMemory(p + 100, false).faulted);
  EXPECT_EQ(p[100], 0);
  FaultResult r = TouchMemory(p + PageSize() + 8, false);
  ASSERT_TRUE(r.faulted);
  EXPECT_EQ(r.signo, SIGBUS);
  EXPECT_EQ(r.info.si_code, BUS_ADRERR);
  EXPECT_EQ(r.info.si_addr, p + PageSize() + 8);
  munmap(p, 2 * PageSize());
}

char* g_page = nullptr;
std::atomic<int> g_faults{0};
void UnprotectOnFault(int, siginfo_t* info, void*) {
  g_faults++;
  char* a = static_cast<char*>(info->si_addr);
  if (a >= g_page && a < g_page + PageSize()) {
    mprotect(g_page, PageSize(), PROT_READ | PROT_WRITE);
  } else {
    _exit(99);
  }
}

TEST_F(MemoryFaultTest, HandlerCanFixFaultAndInstructionRestarts) {
  g_page = Map(1, PROT_NONE);
  g_faults = 0;
  {
    ScopedSigaction act(SIGSEGV, UnprotectOnFault, SA_SIGINFO);
    volatile char* v = g_page;
    v[10] = 'z';  // faults once, handler fixes, the store is retried
  }
  EXPECT_EQ(g_faults, 1);
  EXPECT_EQ(g_page[10], 'z');
  munmap(g_page, PageSize());
}

TEST_F(MemoryFaultTest, UnhandledFaultKillsWithSigsegv) {
  EXPECT_TRUE(KilledBy(RunInChild([] {
    signal(SIGSEGV, SIG_DFL);
    volatile char* p = static_cast<volatile char*>(BadPointer());
    p[0] = 1;
    return 0;
  }), SIGSEGV));
}

TEST_F(MemoryFaultTest, BlockedSigsegvFromFaultStillKills) {
  // A synchronous SIGSEGV cannot be blocked: Linux forces the default
  // action when the fault's signal is blocked.
  EXPECT_TRUE(KilledBy(RunInChild([] {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSEGV);
    sigprocmask(SIG_BLOCK, &s, nullptr);
    volatile char* p = static_cast<volatile char*>(BadPointer());
    return static_cast<int>(p[0]);
  }), SIGSEGV));
}

TEST_F(MemoryFaultTest, ExecutingNonExecutableMemoryFaults) {
  char* p = Map(1, PROT_READ | PROT_WRITE);
  p[0] = static_cast<char>(0xc3);  // ret
  EXPECT_TRUE(KilledBy(RunInChild([&] {
    signal(SIGSEGV, SIG_DFL);
    reinterpret_cast<void (*)()>(p)();
    return 0;
  }), SIGSEGV));
  ASSERT_THAT(mprotect(p, PageSize(), PROT_READ | PROT_EXEC), SyscallSucceeds());
  reinterpret_cast<void (*)()>(p)();  // now it just returns
  munmap(p, PageSize());
}

}  // namespace
}  // namespace palisade::testing
