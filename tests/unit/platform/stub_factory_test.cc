// The stub factory (platform/ptrace/stub_factory.h): stubs are its
// children, not the sentry's; they hold only the fds they were given; the
// factory is confined; and a seccomp filter the sentry installs after the
// factory started never reaches a stub, so both platforms keep working
// under the sentry's own filter (the point of the factory).
//
// The last test installs the sentry filter on this test process for good,
// so this is a test binary of its own and that test comes last.
#include "platform/ptrace/stub_factory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "platform/ptrace/stub_process.h"
#include "sentry/seccomp/sentry_filter.h"
#include "tests/unit/platform/ptrace_test_util.h"

namespace palisade::platform::testing {
namespace {

// "Name:\tvalue" from /proc/<pid>/status, or "".
std::string StatusField(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(name + ":", 0) == 0) {
      size_t v = l.find_first_not_of(" \t", name.size() + 1);
      return v == std::string::npos ? "" : l.substr(v);
    }
  }
  return "";
}

std::vector<std::string> Fds(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

std::vector<std::string> FdsOf(pid_t pid) {
  std::vector<std::string> fds;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return fds;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') fds.push_back(e->d_name);
  }
  closedir(d);
  return fds;
}

class StubFactoryTest : public PtraceTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string PlatformName() const override { return GetParam(); }
};

TEST_P(StubFactoryTest, StubIsTheFactorysChildAndHoldsOnlyItsFds) {
  auto f = StubFactory::Get();
  ASSERT_TRUE(f.ok()) << f.status();
  auto c = platform_->NewContext();
  ASSERT_TRUE(c.ok()) << c.status();
  const pid_t stub = StubPidOf(**c, *as_);
  EXPECT_EQ(StatusField(stub, "PPid"), std::to_string((*f)->pid()));
  EXPECT_EQ(StatusField((*f)->pid(), "PPid"), std::to_string(getpid()));
  EXPECT_EQ(FdsOf(stub), GetParam() == "systrap" ? Fds({"0", "100"}) : Fds({"100"}));
  // Seized by this thread: the sentry thread is its tracer.
  EXPECT_EQ(StatusField(stub, "TracerPid"), GetParam() == "ptrace" ? std::to_string(gettid()) : "0");
}

TEST_P(StubFactoryTest, FactoryIsConfined) {
  auto f = StubFactory::Get();
  ASSERT_TRUE(f.ok()) << f.status();
  const pid_t pid = (*f)->pid();
  EXPECT_EQ(StatusField(pid, "Seccomp"), "2");
  EXPECT_EQ(StatusField(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(FdsOf(pid), std::vector<std::string>{"3"});  // its socket only
  // Every signal blocked: nothing sent from outside diverts it.
  EXPECT_EQ(StatusField(pid, "SigBlk"), "fffffffffffbfeff");
}

TEST_P(StubFactoryTest, ManyStubsInParallelThreads) {
  // Requests from several tracer threads at once are serialized correctly:
  // each thread gets its own stub and can drive it.
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto c = platform_->NewContext();
      if (!c.ok()) return;
      Registers regs = Regs(prog_roundtrip);
      if ((*c)->Switch(*as_, regs).kind == EventKind::kSyscall && regs.orig_rax == SYS_getpid) {
        ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
}

// Once the sentry filter is on, this process cannot open /proc files: a
// helper forked before reads "pid field" requests from a pipe and answers
// with the field's value.
class ProcReader {
 public:
  ProcReader() {
    int req[2], rep[2];
    if (pipe(req) != 0 || pipe(rep) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(req[1]);
      close(rep[0]);
      char buf[256];
      ssize_t n;
      while ((n = read(req[0], buf, sizeof(buf) - 1)) > 0) {
        buf[n] = 0;
        std::string q(buf);
        const size_t sp = q.find(' ');
        std::string v = StatusField(std::stoi(q.substr(0, sp)), q.substr(sp + 1));
        if (v.empty()) v = "-";
        if (write(rep[1], v.data(), v.size()) < 0) break;
      }
      _exit(0);
    }
    close(req[0]);
    close(rep[1]);
    req_ = req[1];
    rep_ = rep[0];
  }
  std::string Field(pid_t pid, const std::string& name) {
    const std::string q = std::to_string(pid) + " " + name;
    if (write(req_, q.data(), q.size()) != static_cast<ssize_t>(q.size())) return "";
    char buf[256];
    const ssize_t n = read(rep_, buf, sizeof(buf));
    return n > 0 ? std::string(buf, n) : "";
  }

 private:
  pid_t pid_ = -1;
  int req_ = -1, rep_ = -1;
};

// Last: confines this process for good.
TEST_P(StubFactoryTest, ZZStubsDoNotInheritTheSentryFilter) {
  static ProcReader* proc = nullptr;
  if (proc == nullptr) {
    ASSERT_TRUE(StubFactory::Start().ok());
    proc = new ProcReader();
    absl::Status s = seccomp::InstallSentryFilter();
    ASSERT_TRUE(s.ok()) << s;
  }
  ASSERT_EQ(proc->Field(getpid(), "Seccomp"), "2");
  auto c = platform_->NewContext();
  ASSERT_TRUE(c.ok()) << c.status();
  const pid_t stub = StubPidOf(**c, *as_);
  // The factory's filter plus the stub's own; none of the sentry's.
  EXPECT_EQ(proc->Field(stub, "Seccomp_filters"), "2");
  // And the app's syscalls still come back as events (under systrap the
  // sentry filter's KILL would otherwise win over the stub's TRAP),
  // including ones the sentry filter kills or refuses.
  Registers regs = Regs(prog_roundtrip);
  Event ev = (*c)->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_getpid);
  regs.rax = 7;
  ev = (*c)->Switch(*as_, regs);
  ASSERT_EQ(ev.kind, EventKind::kSyscall);
  EXPECT_EQ(regs.orig_rax, SYS_exit);
  EXPECT_EQ(regs.rdi, 7u);
  // The sentry itself cannot open host paths any more.
  EXPECT_EQ(open("/etc/passwd", O_RDONLY), -1);
  EXPECT_EQ(errno, EPERM);
}

INSTANTIATE_TEST_SUITE_P(Platforms, StubFactoryTest, ::testing::Values("ptrace", "systrap"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace palisade::platform::testing
