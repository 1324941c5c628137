// End-to-end check of the loader's pure parts against real programs: a
// forked child lays out a host address space exactly as the plans say
// (segments, bss, stack image, auxv), then jumps to the entry point. If
// glibc's _start and ld.so accept that image and the program prints what
// it should, the ELF parsing, mapping plans, stack and auxv are right. The
// sentry's mapping.cc does the same against a MemoryManager.
//
// Skipped under ASan (its shadow memory covers the addresses we map) and
// when a program is missing.
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "gtest/gtest.h"
#include "sentry/loader/auxv_x86_64.h"
#include "sentry/loader/elf_plan.h"
#include "sentry/loader/layout.h"
#include "sentry/loader/shebang.h"
#include "sentry/loader/stack.h"
#include "tests/unit/loader/test_elf.h"

namespace palisade::loader {
namespace {

using testing::ReadFile;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

// In the child: dies with a distinctive exit code naming the failed step.
[[noreturn]] void Fail(int code) { _exit(100 + code); }

// Carries out a plan with host mmap (what mapping.cc does with the mm).
void MapNative(const std::string& path, const ElfPlan& plan) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail(1);
  for (const MapStep& s : plan.steps) {
    void* want = reinterpret_cast<void*>(s.addr);
    switch (s.kind) {
      case MapStep::Kind::kFile:
        if (mmap(want, s.len, s.prot, MAP_PRIVATE | MAP_FIXED, fd, static_cast<off_t>(s.offset)) != want) Fail(2);
        break;
      case MapStep::Kind::kAnon:
        if (mmap(want, s.len, s.prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != want) Fail(3);
        break;
      case MapStep::Kind::kZero: {
        // The forced write: open the page up, zero, restore.
        uint64_t page = PageDown(s.addr);
        mprotect(reinterpret_cast<void*>(page), kPageSize, PROT_READ | PROT_WRITE);
        std::memset(want, 0, s.len);
        mprotect(reinterpret_cast<void*>(page), kPageSize, s.prot);
        break;
      }
    }
  }
  close(fd);
}

// A range for an interpreter just under mmap_base, where the sentry's
// top-down allocator puts it first (the host's own mmap would go above
// kMaxUserAddress).
uint64_t InterpreterBias(const ElfInfo& info, const AddressLayout& layout) {
  uint64_t span = info.max_vaddr - info.min_vaddr;
  void* want = reinterpret_cast<void*>(PageDown(layout.mmap_base - span));
  if (mmap(want, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != want) Fail(4);
  munmap(want, span);
  return reinterpret_cast<uint64_t>(want) - info.min_vaddr;
}

// What Load() does, minus the VFS and the MemoryManager. Never returns.
[[noreturn]] void ExecNative(std::string path, std::vector<std::string> argv, int out_fd) {
  std::vector<std::string> envp{"LC_ALL=C", "PATH=/usr/bin:/bin"};
  std::string execfn = path;
  auto head = ReadFile(path);
  if (!head) Fail(5);
  head->resize(std::min(head->size(), kBinprmBufSize));
  auto levels = FollowShebangs(*head, path, false, argv, [&](const std::string& p) -> ErrnoOr<std::vector<uint8_t>> {
    path = p;
    auto h = ReadFile(p);
    if (!h) return Errno(ENOENT);
    h->resize(std::min(h->size(), kBinprmBufSize));
    return *h;
  });
  if (!levels.ok()) Fail(6);

  auto file = ReadFile(path);
  auto info = ParseElfHeaders(*file);
  if (!info.ok()) Fail(7);
  AddressLayout layout = ChooseLayout({0, 0, 0});
  void* stack = reinterpret_cast<void*>(layout.stack_bottom);
  if (mmap(stack, kStackReserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
           0) != stack) {
    Fail(8);
  }
  auto main = PlanElfMapping(*info, info->type == ET_DYN ? MainPieBias(*info) : 0);
  if (!main.ok()) Fail(9);
  MapNative(path, *main);
  uint64_t entry = main->entry, base = 0;
  if (info->has_interp) {
    auto ld_file = ReadFile(info->interp);
    auto ld = ParseElfHeaders(*ld_file);
    if (!ld.ok()) Fail(10);
    auto ld_plan = PlanElfMapping(*ld, InterpreterBias(*ld, layout));
    if (!ld_plan.ok()) Fail(11);
    MapNative(info->interp, *ld_plan);
    entry = ld_plan->entry;
    base = ld_plan->bias;
  }

  StackRequest sr;
  sr.top = layout.stack_top;
  sr.argv = argv;
  sr.envp = envp;
  sr.execfn = execfn;
  sr.random = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  sr.align_pad = 1234;
  sr.auxv = BuildAuxv({.phdr = main->phdr, .phnum = info->phnum, .base = base, .entry = main->entry,
                       .uid = getuid(), .euid = geteuid(), .gid = getgid(), .egid = getegid()});
  auto img = BuildStackImage(sr);
  if (!img.ok()) Fail(12);
  std::memcpy(reinterpret_cast<void*>(img->sp), img->bytes.data(), img->bytes.size());

  dup2(out_fd, 1);
  // The process-entry register state: rsp at argc, rdx 0 (no atexit hook).
  // Fixed registers: the operands must not land in the ones zeroed here.
  asm volatile(
      "mov %%rdi, %%rsp\n"
      "xor %%edx, %%edx\n"
      "xor %%ebp, %%ebp\n"
      "jmp *%%rsi\n" ::"D"(img->sp),
      "S"(entry)
      : "memory");
  __builtin_unreachable();
}

// Runs the program in a child; returns its stdout and exit status.
std::pair<std::string, int> Run(const std::string& path, std::vector<std::string> argv) {
  int p[2];
  EXPECT_EQ(pipe(p), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    ExecNative(path, std::move(argv), p[1]);
  }
  close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(p[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {out, status};
}

void ExpectRuns(const std::string& path, std::vector<std::string> argv, const std::string& want) {
  if (kAsan) GTEST_SKIP() << "ASan owns the address ranges";
  if (access(path.c_str(), X_OK) != 0) GTEST_SKIP() << "no " << path;
  auto [out, status] = Run(path, std::move(argv));
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "(100+n: setup step n failed)";
  EXPECT_EQ(out, want);
}

TEST(NativeExecTest, StaticEtExec) { ExpectRuns("/bin/busybox", {"busybox", "echo", "static", "ok"}, "static ok\n"); }

TEST(NativeExecTest, PieWithInterpreter) { ExpectRuns("/bin/echo", {"echo", "pie", "ok"}, "pie ok\n"); }

TEST(NativeExecTest, EtExecWithInterpreter) {
  ExpectRuns("/usr/bin/python3", {"python3", "-S", "-c", "import sys; print(sys.argv[0], 6*7)"}, "-c 42\n");
}

TEST(NativeExecTest, EnvironmentAndAuxvReachTheProgram) {
  // env prints the environment glibc found through the stack image.
  ExpectRuns("/usr/bin/env", {"env"}, "LC_ALL=C\nPATH=/usr/bin:/bin\n");
}

TEST(NativeExecTest, ShebangScript) {
  if (kAsan) GTEST_SKIP();
  if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "no /bin/busybox";
  char dir[] = "/tmp/loader_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string script = std::string(dir) + "/hello.sh";
  int fd = open(script.c_str(), O_WRONLY | O_CREAT, 0755);
  std::string text = "#!/bin/busybox sh\necho \"$0\" \"$@\"\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  ExpectRuns(script, {"hello.sh", "a b"}, script + " a b\n");
  unlink(script.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace palisade::loader
