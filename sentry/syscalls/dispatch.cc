// Syscall dispatch: table lookup, the handler call, --strace output
// (strace_format.h) and the workload report (report.h).
#include <fcntl.h>
#include <sys/stat.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/syscalls/report.h"
#include "sentry/syscalls/strace_format.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/syscalls/syscall_table.h"

namespace palisade {
namespace {

SyscallArgs ArgsFromRegs(const platform::Registers& r) {
  SyscallArgs a;
  a.nr = static_cast<int>(r.orig_rax);
  a.args = {SyscallArg{r.rdi}, SyscallArg{r.rsi}, SyscallArg{r.rdx},
            SyscallArg{r.r10}, SyscallArg{r.r8}, SyscallArg{r.r9}};
  return a;
}

const char* FileKind(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "regular";
    case S_IFDIR: return "directory";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFIFO: return "pipe";
    case S_IFSOCK: return "socket";
    case S_IFLNK: return "symlink";
  }
  return "anon";
}

// "/proc", "/proc/x", "/sys/..." but not "/processes".
bool UnderProcOrSys(std::string_view p) {
  for (std::string_view root : {"/proc", "/sys"}) {
    if (p.substr(0, root.size()) == root && (p.size() == root.size() || p[root.size()] == '/')) return true;
  }
  return false;
}

// Feeds the workload report (--report) what a failed call says about the
// sentry: ioctl requests it did not serve, /proc and /sys paths it lacks.
void RecordFailure(SyscallRecorder& rec, Task& t, const SyscallEntry* e, const SyscallArgs& a, int64_t r) {
  if (!e || r >= 0) return;
  if (a.nr == 16 && (r == -ENOTTY || r == -EINVAL || r == -ENOSYS)) {
    auto f = sys::GetFile(t, a[0].Fd(), sys::FileNeed::kAny);
    rec.RecordIoctl(a[1].Uint(), static_cast<int>(-r), f.ok() ? FileKind(sys::FileMode(t, **f)) : "closed");
    return;
  }
  if (r != -ENOENT || !*e->args) return;
  int i = 0;
  for (absl::string_view k : absl::StrSplit(e->args, ',')) {
    if (k == "path" && a[i].raw) {
      auto s = t.CopyInString(a[i].raw, 4096);
      if (s.ok() && UnderProcOrSys(*s)) rec.RecordMissingPath(*s, e->name);
    }
    if (++i == 6) break;
  }
}

}  // namespace

int64_t DispatchSyscall(Task& t) {
  SyscallArgs a = ArgsFromRegs(t.regs());
  const SyscallEntry* e = LookupSyscall(a.nr);
  const bool strace = t.kernel().strace();
  // Calls that never return to the caller's frame are printed up front.
  const bool printed_early = strace && e && (a.nr == 59 || a.nr == 60 || a.nr == 231 || a.nr == 15 || a.nr == 322);
  if (printed_early) spdlog::info("{} ...", FormatSyscall(t, e, a, 0, false));
  // Counted before the call: exit and execve may not come back here.
  SyscallRecorder* rec = t.kernel().recorder();
  if (rec) rec->RecordSyscall(a.nr);
  int64_t r;
  if (!e || !e->handler) {
    t.kernel().ReportUnimplemented(a.nr, e ? e->name : nullptr);
    r = -ENOSYS;
  } else {
    r = e->handler(t, a).raw();
  }
  if (rec) RecordFailure(*rec, t, e, a, r);
  // exit/exit_group never return; execve's "after" view is the new image.
  if (strace && !(printed_early && a.nr != 59 && a.nr != 322)) {
    spdlog::info("{} = {}", a.nr == 59 || a.nr == 322 ? absl::StrCat("[", t.tgid(), ":", t.tid(), "] ", e->name, "(...)")
                                                       : FormatSyscall(t, e, a, r, true),
                 FormatResult(r));
  }
  return r;
}

}  // namespace palisade
