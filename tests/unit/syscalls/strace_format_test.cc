#include "sentry/syscalls/strace_format.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <set>

#include "gtest/gtest.h"

namespace palisade {
namespace {

TEST(StraceFormatTest, OpenFlags) {
  EXPECT_EQ(FormatScalarArg("oflags", O_RDONLY), "O_RDONLY");
  EXPECT_EQ(FormatScalarArg("oflags", O_WRONLY | O_CREAT | O_CLOEXEC), "O_WRONLY|O_CREAT|O_CLOEXEC");
  EXPECT_EQ(FormatScalarArg("oflags", O_RDWR | 0x40000000), "O_RDWR|0x40000000");
}

TEST(StraceFormatTest, AtFlagsAndDirfd) {
  EXPECT_EQ(FormatScalarArg("atflags", 0), "0");
  EXPECT_EQ(FormatScalarArg("atflags", AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
  EXPECT_EQ(FormatScalarArg("dirfd", static_cast<uint64_t>(static_cast<int64_t>(AT_FDCWD))), "AT_FDCWD");
  EXPECT_EQ(FormatScalarArg("dirfd", 3), "3");
}

TEST(StraceFormatTest, CloneFlagsWithExitSignal) {
  EXPECT_EQ(FormatScalarArg("cloneflags", CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD),
            "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
  EXPECT_EQ(FormatScalarArg("cloneflags", CLONE_VM | CLONE_THREAD), "CLONE_VM|CLONE_THREAD");
}

TEST(StraceFormatTest, Signals) {
  EXPECT_EQ(FormatScalarArg("signal", SIGTERM), "SIGTERM");
  EXPECT_EQ(FormatScalarArg("signal", SIGKILL), "SIGKILL");
  EXPECT_EQ(FormatScalarArg("signal", 0), "0");
  EXPECT_EQ(FormatScalarArg("signal", 34), "SIGRT_2");
  EXPECT_EQ(FormatScalarArg("signal", 99), "99");
}

TEST(StraceFormatTest, SmallEnums) {
  EXPECT_EQ(FormatScalarArg("whence", SEEK_END), "SEEK_END");
  EXPECT_EQ(FormatScalarArg("whence", 77), "77");
  EXPECT_EQ(FormatScalarArg("accessmode", F_OK), "F_OK");
  EXPECT_EQ(FormatScalarArg("accessmode", R_OK | W_OK), "R_OK|W_OK");
  EXPECT_EQ(FormatScalarArg("fcntlcmd", F_DUPFD_CLOEXEC), "F_DUPFD_CLOEXEC");
  EXPECT_EQ(FormatScalarArg("ioctlreq", 0x5401), "TCGETS");
  EXPECT_EQ(FormatScalarArg("ioctlreq", 0xdead), "0xdead");
  EXPECT_EQ(FormatScalarArg("prot", PROT_READ | PROT_WRITE), "PROT_READ|PROT_WRITE");
  EXPECT_EQ(FormatScalarArg("prot", 0), "PROT_NONE");
  EXPECT_EQ(FormatScalarArg("mflags", MAP_PRIVATE | MAP_ANONYMOUS), "MAP_PRIVATE|MAP_ANONYMOUS");
}

TEST(StraceFormatTest, MemoryKindsAreNotScalar) {
  for (const char* kind : {"path", "str", "stat", "timespec", "sigset", "sockaddr", "argv", "ptr"}) {
    EXPECT_EQ(FormatScalarArg(kind, 0x1000), "") << kind;
  }
}

TEST(StraceFormatTest, ModesAreOctal) {
  EXPECT_EQ(FormatScalarArg("mode", 0644), "0644");
  EXPECT_EQ(FormatScalarArg("mode", 0), "00");
}

TEST(StraceFormatTest, Results) {
  EXPECT_EQ(FormatResult(3), "3");
  EXPECT_EQ(FormatResult(-2), "-1 ENOENT");
  EXPECT_EQ(FormatResult(0x7f0000001000), "0x7f0000001000");
}

// Every argument kind the table uses is one the decoder knows: a typo in a
// row would otherwise print a bare pointer silently.
TEST(StraceFormatTest, TableUsesOnlyKnownKinds) {
  const std::set<std::string> memory_kinds = {"path", "str", "inbuf", "outbuf", "argv", "ptr", "stat",
                                              "timespec", "sigset", "sockaddr"};
  size_t n = 0;
  const SyscallEntry* rows = SyscallRows(&n);
  for (size_t i = 0; i < n; i++) {
    std::string args = rows[i].args;
    size_t start = 0;
    while (!args.empty() && start <= args.size()) {
      size_t end = args.find(',', start);
      std::string kind = args.substr(start, end == std::string::npos ? std::string::npos : end - start);
      EXPECT_TRUE(memory_kinds.count(kind) || !FormatScalarArg(kind, 1).empty())
          << rows[i].name << ": unknown argument kind \"" << kind << "\"";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
}

}  // namespace
}  // namespace palisade
