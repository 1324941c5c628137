// execve(2), execveat(2)/fexecve(3): argument and environment passing,
// errors (ENOENT, EACCES, ENOEXEC, E2BIG), #! scripts, close-on-exec and
// what exec keeps or resets.
//
// The targets are this binary itself: main() recognises "--exec-child MODE"
// and acts as a tiny helper program, so the test needs nothing from the
// host's filesystem (no /bin/true) and runs the same inside the sandbox.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/child_process.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

extern char** environ;

namespace palisade::testing {
namespace {

constexpr char kChildFlag[] = "--exec-child";

// The helper-program side. argv[1] == kChildFlag, argv[2] == mode. For a #!
// script the kernel passes [interpreter, "--exec-child", script, args...],
// so a mode that is not recognised is treated as "argv".
int ChildMain(int argc, char** argv) {
  std::string mode = argc > 2 ? argv[2] : "";
  if (mode == "exit" && argc > 3) return atoi(argv[3]);
  if (mode == "env") {
    for (char** e = environ; *e != nullptr; e++) std::printf("%s\n", *e);
    return 0;
  }
  if (mode == "fd" && argc > 3) {
    int fd = atoi(argv[3]);
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF ? 0 : 1;  // 0: closed
  }
  if (mode == "pid") {
    std::printf("%d\n", getpid());
    return 0;
  }
  if (mode == "sigstate") {
    struct sigaction a1, a2;
    sigaction(SIGUSR1, nullptr, &a1);
    sigaction(SIGUSR2, nullptr, &a2);
    sigset_t mask;
    sigprocmask(SIG_BLOCK, nullptr, &mask);
    std::printf("usr1=%s usr2=%s usr2blocked=%d\n", a1.sa_handler == SIG_IGN ? "ign" : "other",
                a2.sa_handler == SIG_DFL ? "dfl" : "other", sigismember(&mask, SIGUSR2));
    return 0;
  }
  for (int i = 0; i < argc; i++) std::printf("%s\n", argv[i]);  // "argv"
  return 0;
}

std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n < 0) DieErrno("readlink /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

struct ExecResult {
  int status = -1;
  std::string out;
};

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Forks; the child runs `before` (if any) and then execve(path, argv, envp)
// with stdout on a pipe. Exec failure exits the child with 100 + errno.
ExecResult RunExec(const std::string& path, std::vector<std::string> argv,
                   std::vector<std::string> envp,
                   const std::function<void()>& before = nullptr) {
  ExecResult r;
  int fds[2];
  if (pipe(fds) != 0) return r;
  std::vector<char*> av = CStrings(argv), ev = CStrings(envp);
  pid_t pid = ForkChild([&] {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    if (before) before();
    execve(path.c_str(), av.data(), ev.data());
    return 100 + errno;
  });
  close(fds[1]);
  ReadAll(fds[0], &r.out);
  close(fds[0]);
  r.status = WaitForStatus(pid);
  return r;
}

class ExecTest : public ::testing::Test {
 protected:
  std::string self_ = SelfPath();
  TempDir dir_;
};

TEST_F(ExecTest, PassesArgvAndReturnsExitStatus) {
  ExecResult r = RunExec("/proc/self/exe", {"custom-argv0", kChildFlag, "argv", "a", "b c", ""},
                         {});
  EXPECT_TRUE(ExitedWith(r.status, 0));
  EXPECT_EQ(r.out, "custom-argv0\n--exec-child\nargv\na\nb c\n\n");
  r = RunExec(self_, {"x", kChildFlag, "exit", "42"}, {});
  EXPECT_TRUE(ExitedWith(r.status, 42));
}

TEST_F(ExecTest, PassesExactlyTheGivenEnvironment) {
  ExecResult r = RunExec(self_, {"x", kChildFlag, "env"}, {"FOO=bar", "EMPTY=", "Z=1=2"});
  EXPECT_TRUE(ExitedWith(r.status, 0));
  EXPECT_EQ(r.out, "FOO=bar\nEMPTY=\nZ=1=2\n");
  r = RunExec(self_, {"x", kChildFlag, "env"}, {});
  EXPECT_EQ(r.out, "");
}

TEST_F(ExecTest, KeepsPid) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    char* argv[] = {const_cast<char*>("x"), const_cast<char*>(kChildFlag),
                    const_cast<char*>("pid"), nullptr};
    execv(self_.c_str(), argv);
    return 100 + errno;
  });
  close(fds[1]);
  std::string out;
  ReadAll(fds[0], &out);
  close(fds[0]);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  EXPECT_EQ(out, std::to_string(pid) + "\n");
}

TEST_F(ExecTest, MissingFileIsEnoent) {
  std::string missing = dir_.Join("missing");
  char* argv[] = {const_cast<char*>("x"), nullptr};
  EXPECT_THAT(execve(missing.c_str(), argv, environ), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(execve((missing + "/sub").c_str(), argv, environ), SyscallFailsWithErrno(ENOENT));
}

TEST_F(ExecTest, NonExecutableFileIsEacces) {
  // "EACCES Execute permission is denied for the file" — for root too, when
  // no execute bit is set at all.
  std::string copy = dir_.CreateFile("copy", ReadFileOrDie(self_), 0644);
  char* argv[] = {const_cast<char*>("x"), nullptr};
  EXPECT_THAT(execve(copy.c_str(), argv, environ), SyscallFailsWithErrno(EACCES));
  // "EACCES The file or a script interpreter is not a regular file."
  EXPECT_THAT(execve(dir_.path().c_str(), argv, environ), SyscallFailsWithErrno(EACCES));
}

TEST_F(ExecTest, ExecutableCopyRuns) {
  std::string copy = dir_.CreateFile("copy", ReadFileOrDie(self_), 0755);
  ExecResult r = RunExec(copy, {"x", kChildFlag, "exit", "3"}, {});
  EXPECT_TRUE(ExitedWith(r.status, 3));
}

TEST_F(ExecTest, NonElfWithoutShebangIsEnoexec) {
  std::string text = dir_.CreateFile("text", "this is not a program\n", 0755);
  char* argv[] = {const_cast<char*>("x"), nullptr};
  EXPECT_THAT(execve(text.c_str(), argv, environ), SyscallFailsWithErrno(ENOEXEC));
  std::string empty = dir_.CreateFile("empty", "", 0755);
  EXPECT_THAT(execve(empty.c_str(), argv, environ), SyscallFailsWithErrno(ENOEXEC));
}

TEST_F(ExecTest, TruncatedElfFails) {
  // The ELF header survives but the program headers are cut off. Linux
  // reports the short read as EIO; ENOEXEC ("some other format error") is
  // the man page's other fitting answer.
  std::string elf = ReadFileOrDie(self_);
  std::string cut = dir_.CreateFile("cut", elf.substr(0, 64), 0755);
  char* argv[] = {const_cast<char*>("x"), nullptr};
  EXPECT_THAT(execve(cut.c_str(), argv, environ),
              SyscallFailsWithErrno(::testing::AnyOf(ENOEXEC, EIO)));
}

TEST_F(ExecTest, ShebangScriptRunsInterpreterWithScriptPath) {
  std::string script =
      dir_.CreateFile("script", "#!" + self_ + " " + kChildFlag + "\nignored body\n", 0755);
  ExecResult r = RunExec(script, {"script-argv0", "one", "two"}, {});
  EXPECT_TRUE(ExitedWith(r.status, 0));
  // "the interpreter is invoked with: interpreter [optional-arg] pathname
  // arg..." — argv[0] of the original call is dropped.
  EXPECT_EQ(r.out, self_ + "\n" + kChildFlag + "\n" + script + "\none\ntwo\n");
}

TEST_F(ExecTest, ShebangWithMissingInterpreterIsEnoent) {
  std::string script = dir_.CreateFile("script", "#!" + dir_.Join("no-interp") + "\n", 0755);
  char* argv[] = {const_cast<char*>("x"), nullptr};
  EXPECT_THAT(execve(script.c_str(), argv, environ), SyscallFailsWithErrno(ENOENT));
}

TEST_F(ExecTest, ArgumentTooLongIsE2big) {
  // "E2BIG The total number of bytes in the environment (envp) and argument
  // list (argv) is too large, or an argument or environment string is too
  // long." A single string is limited to 32 pages (MAX_ARG_STRLEN).
  std::string huge(33 * 4096, 'a');
  char* argv[] = {const_cast<char*>("x"), huge.data(), nullptr};
  EXPECT_THAT(execve(self_.c_str(), argv, environ), SyscallFailsWithErrno(E2BIG));
}

TEST_F(ExecTest, CloexecDescriptorsAreClosed) {
  std::string f = dir_.CreateFile("f");
  int keep = open(f.c_str(), O_RDONLY);
  int drop = open(f.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_THAT(keep, SyscallSucceeds());
  ASSERT_THAT(drop, SyscallSucceeds());
  FileDescriptor g1(keep), g2(drop);
  ExecResult r = RunExec(self_, {"x", kChildFlag, "fd", std::to_string(drop)}, {});
  EXPECT_TRUE(ExitedWith(r.status, 0)) << "FD_CLOEXEC descriptor survived exec";
  r = RunExec(self_, {"x", kChildFlag, "fd", std::to_string(keep)}, {});
  EXPECT_TRUE(ExitedWith(r.status, 1)) << "plain descriptor was closed by exec";
}

TEST_F(ExecTest, HandledSignalsResetIgnoredAndMaskKept) {
  ExecResult r = RunExec(self_, {"x", kChildFlag, "sigstate"}, {}, [] {
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, [](int) {});
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, nullptr);
  });
  EXPECT_TRUE(ExitedWith(r.status, 0));
  // "The dispositions of any signals that are being caught are reset to the
  // default"; ignored stay ignored; "The signal mask is preserved".
  EXPECT_EQ(r.out, "usr1=ign usr2=dfl usr2blocked=1\n");
}

TEST_F(ExecTest, FexecveRunsOpenDescriptor) {
  int fd = open(self_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  int status = RunInChild([&] {
    char* argv[] = {const_cast<char*>("x"), const_cast<char*>(kChildFlag),
                    const_cast<char*>("exit"), const_cast<char*>("11"), nullptr};
    char* envp[] = {nullptr};
    fexecve(fd, argv, envp);
    return 100 + errno;
  });
  EXPECT_TRUE(ExitedWith(status, 11));
}

TEST_F(ExecTest, ExecFromSecondThreadReplacesWholeProcess) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    std::thread t([&] {
      char* argv[] = {const_cast<char*>("x"), const_cast<char*>(kChildFlag),
                      const_cast<char*>("pid"), nullptr};
      execv(self_.c_str(), argv);
      _exit(100 + errno);
    });
    // "All threads other than the calling thread are destroyed during an
    // execve()"; the new image keeps the thread group's pid.
    for (;;) pause();
    return 0;
  });
  close(fds[1]);
  std::string out;
  ReadAll(fds[0], &out);
  close(fds[0]);
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  EXPECT_EQ(out, std::to_string(pid) + "\n");
}

}  // namespace
}  // namespace palisade::testing

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], palisade::testing::kChildFlag) == 0) {
    int rc = palisade::testing::ChildMain(argc, argv);
    std::fflush(stdout);
    return rc;
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
