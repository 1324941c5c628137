// proc(5): /proc/self/{status,stat,maps,exe,fd,cmdline,comm,cwd,task},
// /proc/<pid> of a child, and the system files /proc/cpuinfo, /proc/meminfo,
// /proc/mounts, /proc/uptime, /proc/version and /proc/sys/kernel/hostname.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
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

namespace palisade::testing {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The value of "Key:\tvalue" in a status-style file, or "" if absent.
std::string Field(const std::string& text, const std::string& key) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::string v = line.substr(key.size() + 1);
      size_t start = v.find_first_not_of(" \t");
      return start == std::string::npos ? "" : v.substr(start);
    }
  }
  return "";
}

std::string Readlink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  if (n < 0) return "<" + ErrnoName(errno) + ">";
  return std::string(buf, static_cast<size_t>(n));
}

std::set<std::string> ListDir(const std::string& path) {
  std::set<std::string> names;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) names.insert(e->d_name);
  closedir(d);
  return names;
}

TEST(ProcTest, SelfStatus) {
  std::string status = ReadFileOrDie("/proc/self/status");
  EXPECT_THAT(status, HasSubstr("Pid:"));
  EXPECT_EQ(Field(status, "Pid"), std::to_string(getpid()));
  EXPECT_EQ(Field(status, "Tgid"), std::to_string(getpid()));
  EXPECT_EQ(Field(status, "PPid"), std::to_string(getppid()));
  EXPECT_FALSE(Field(status, "Name").empty());
  EXPECT_FALSE(Field(status, "State").empty());
  EXPECT_EQ(Field(status, "Threads"), "1");
  // "Uid: Real, effective, saved set, and filesystem UIDs".
  std::string uid = std::to_string(getuid());
  EXPECT_EQ(Field(status, "Uid").substr(0, uid.size() + 1), uid + "\t");
}

TEST(ProcTest, SelfIsLinkToOwnPid) {
  EXPECT_EQ(Readlink("/proc/self"), std::to_string(getpid()));
  struct stat a, b;
  ASSERT_THAT(stat("/proc/self", &a), SyscallSucceeds());
  ASSERT_THAT(stat(("/proc/" + std::to_string(getpid())).c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(ProcTest, SelfStat) {
  std::string stat = ReadFileOrDie("/proc/self/stat");
  // "(1) pid %d (2) comm %s The filename of the executable, in parentheses.
  // (3) state %c".
  EXPECT_EQ(stat.substr(0, stat.find(' ')), std::to_string(getpid()));
  size_t open = stat.find(" ("), close = stat.rfind(") ");
  ASSERT_NE(open, std::string::npos);
  ASSERT_NE(close, std::string::npos);
  std::string rest = stat.substr(close + 2);
  EXPECT_THAT(std::string("RSDTtWXZPI"), HasSubstr(rest.substr(0, 1)));
  // Field 4 is the parent pid.
  std::istringstream in(rest);
  std::string state, ppid;
  in >> state >> ppid;
  EXPECT_EQ(ppid, std::to_string(getppid()));
}

TEST(ProcTest, SelfMapsListsStackBinaryAndNewMappings) {
  const size_t page = PageSize();
  char* p = static_cast<char*>(
      mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_THAT(p, SyscallSucceeds());
  ASSERT_THAT(mprotect(p + page, page, PROT_READ), SyscallSucceeds());
  std::string maps = ReadFileOrDie("/proc/self/maps");
  EXPECT_THAT(maps, HasSubstr("[stack]"));
  EXPECT_THAT(maps, HasSubstr(Readlink("/proc/self/exe")));
  char want_rw[64], want_ro[64];
  snprintf(want_rw, sizeof(want_rw), "%lx-%lx rw-p ", reinterpret_cast<unsigned long>(p),
           reinterpret_cast<unsigned long>(p + page));
  snprintf(want_ro, sizeof(want_ro), "%lx-%lx r--p ", reinterpret_cast<unsigned long>(p + page),
           reinterpret_cast<unsigned long>(p + 2 * page));
  // mprotect split the mapping into three VMAs.
  EXPECT_THAT(maps, HasSubstr(want_rw));
  EXPECT_THAT(maps, HasSubstr(want_ro));
  munmap(p, 3 * page);
  maps = ReadFileOrDie("/proc/self/maps");
  EXPECT_THAT(maps, ::testing::Not(HasSubstr(want_ro)));
}

TEST(ProcTest, SelfExeIsThisBinary) {
  std::string exe = Readlink("/proc/self/exe");
  ASSERT_EQ(exe[0], '/') << exe;
  struct stat via_link, via_path;
  ASSERT_THAT(stat("/proc/self/exe", &via_link), SyscallSucceeds());
  ASSERT_THAT(stat(exe.c_str(), &via_path), SyscallSucceeds());
  EXPECT_EQ(via_link.st_ino, via_path.st_ino);
  EXPECT_EQ(via_link.st_dev, via_path.st_dev);
  // argv[0] names the same file.
  char real[PATH_MAX];
  if (strchr(program_invocation_name, '/') != nullptr &&
      realpath(program_invocation_name, real) != nullptr) {
    EXPECT_EQ(exe, std::string(real));
  }
}

TEST(ProcTest, SelfFdListsOpenDescriptors) {
  TempDir dir;
  std::string f = dir.CreateFile("marker");
  int raw = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(raw, SyscallSucceeds());
  // A high number, so the descriptor opendir() takes cannot reuse it.
  int fd = fcntl(raw, F_DUPFD, 150);
  close(raw);
  ASSERT_THAT(fd, SyscallSucceeds());
  std::set<std::string> names = ListDir("/proc/self/fd");
  EXPECT_EQ(names.count(std::to_string(fd)), 1u);
  char real[PATH_MAX];
  ASSERT_NE(realpath(f.c_str(), real), nullptr);
  EXPECT_EQ(Readlink("/proc/self/fd/" + std::to_string(fd)), std::string(real));
  // Opening the magic link gives a new description of the same file.
  int again = open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY);
  ASSERT_THAT(again, SyscallSucceeds());
  struct stat a, b;
  fstat(fd, &a);
  fstat(again, &b);
  EXPECT_EQ(a.st_ino, b.st_ino);
  close(again);
  close(fd);
  names = ListDir("/proc/self/fd");
  EXPECT_EQ(names.count(std::to_string(fd)), 0u);
  struct stat st;
  EXPECT_THAT(lstat(("/proc/self/fd/" + std::to_string(fd)).c_str(), &st),
              SyscallFailsWithErrno(ENOENT));
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(Readlink("/proc/self/fd/" + std::to_string(fds[0])), HasSubstr("pipe:["));
  close(fds[0]);
  close(fds[1]);
}

TEST(ProcTest, SelfCmdlineAndComm) {
  std::string cmdline = ReadFileOrDie("/proc/self/cmdline");
  ASSERT_FALSE(cmdline.empty());
  EXPECT_EQ(cmdline.back(), '\0');
  EXPECT_EQ(cmdline.substr(0, cmdline.find('\0')), std::string(program_invocation_name));
  std::string comm = ReadFileOrDie("/proc/self/comm");
  std::string base = program_invocation_short_name;
  // "Strings longer than TASK_COMM_LEN (16) characters ... are truncated".
  EXPECT_EQ(comm, base.substr(0, 15) + "\n");
}

TEST(ProcTest, SelfCwd) {
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(Readlink("/proc/self/cwd"), std::string(cwd));
}

TEST(ProcTest, SelfTaskListsThreads) {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> stop{false};
  std::thread t([&] {
    tid = gettid();
    while (!stop) usleep(1000);
  });
  while (tid == 0) usleep(1000);
  std::set<std::string> tasks = ListDir("/proc/self/task");
  std::string status = ReadFileOrDie("/proc/self/status");
  stop = true;
  t.join();
  EXPECT_EQ(tasks.count(std::to_string(getpid())), 1u);
  EXPECT_EQ(tasks.count(std::to_string(tid.load())), 1u);
  EXPECT_EQ(Field(status, "Threads"), "2");
}

TEST(ProcTest, ChildProcessDirectory) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  pid_t pid = ForkChild([&] {
    close(fds[1]);
    char c;
    (void)!read(fds[0], &c, 1);
    return 0;
  });
  close(fds[0]);
  ASSERT_GT(pid, 0);
  std::string status = ReadFileOrDie("/proc/" + std::to_string(pid) + "/status");
  close(fds[1]);
  EXPECT_EQ(Field(status, "Pid"), std::to_string(pid));
  EXPECT_EQ(Field(status, "PPid"), std::to_string(getpid()));
  EXPECT_TRUE(ExitedWith(WaitForStatus(pid), 0));
  struct stat st;
  EXPECT_THAT(stat(("/proc/" + std::to_string(pid)).c_str(), &st), SyscallFailsWithErrno(ENOENT));
}

TEST(ProcTest, Cpuinfo) {
  std::string info = ReadFileOrDie("/proc/cpuinfo");
  int processors = 0;
  for (const std::string& line : Lines(info)) {
    if (line.rfind("processor", 0) == 0) processors++;
  }
  EXPECT_GE(processors, 1);
}

TEST(ProcTest, Meminfo) {
  std::string info = ReadFileOrDie("/proc/meminfo");
  std::string total = Field(info, "MemTotal"), free = Field(info, "MemFree");
  ASSERT_THAT(total, ::testing::EndsWith(" kB"));
  ASSERT_THAT(free, ::testing::EndsWith(" kB"));
  EXPECT_GT(std::stoll(total), 0);
  EXPECT_LE(std::stoll(free), std::stoll(total));
}

TEST(ProcTest, MountsListProc) {
  std::string mounts = ReadFileOrDie("/proc/mounts");
  bool proc_found = false;
  for (const std::string& line : Lines(mounts)) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string w; in >> w;) f.push_back(w);
    // "(1) device (2) mount point (3) type (4) options (5)(6) dummy zeros".
    EXPECT_EQ(f.size(), 6u) << line;
    if (f.size() >= 3 && f[1] == "/proc" && f[2] == "proc") proc_found = true;
  }
  EXPECT_TRUE(proc_found) << mounts;
  EXPECT_EQ(Readlink("/proc/mounts"), "self/mounts");
}

TEST(ProcTest, UptimeVersionHostname) {
  std::string uptime = ReadFileOrDie("/proc/uptime");
  double up = -1, idle = -1;
  ASSERT_EQ(sscanf(uptime.c_str(), "%lf %lf", &up, &idle), 2) << uptime;
  EXPECT_GE(up, 0);
  EXPECT_THAT(ReadFileOrDie("/proc/version"), ::testing::StartsWith("Linux version "));
  struct utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_EQ(ReadFileOrDie("/proc/sys/kernel/hostname"), std::string(u.nodename) + "\n");
}

TEST(ProcTest, MissingEntriesAreEnoent) {
  struct stat st;
  EXPECT_THAT(stat("/proc/self/nonexistent-entry", &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(open("/proc/self/nonexistent-entry", O_RDONLY), SyscallFailsWithErrno(ENOENT));
  // No process has pid 0 in /proc.
  EXPECT_THAT(stat("/proc/0", &st), SyscallFailsWithErrno(ENOENT));
}

}  // namespace
}  // namespace palisade::testing
