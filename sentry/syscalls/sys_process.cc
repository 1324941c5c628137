// Process lifecycle syscalls: ids, clone/fork/vfork, execve, exit, wait.
#include <sched.h>
#include <sys/wait.h>

#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_clone.h"
#include "sentry/kernel/task_exit.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/time_convert.h"

namespace palisade::sys {
namespace {

// Reads a NULL-terminated array of string pointers (argv/envp).
ErrnoOr<std::vector<std::string>> CopyInStringArray(Task& t, uint64_t addr) {
  std::vector<std::string> out;
  if (addr == 0) return out;
  size_t total = 0;
  for (int i = 0;; i++) {
    if (i >= 0x7fffffff / 8) return Errno(E2BIG);
    uint64_t p;
    PAL_TRY_ERRNO(t.CopyInObj(addr + 8ull * i, p));
    if (p == 0) break;
    auto str = t.CopyInString(p, 128 * 1024);
    // One string over MAX_ARG_STRLEN is E2BIG for execve, not ENAMETOOLONG.
    if (!str.ok()) return str.error() == Errno(ENAMETOOLONG) ? Errno(E2BIG) : str.error();
    std::string s = std::move(*str);
    total += s.size() + 1 + 8;
    if (total > 2 * 1024 * 1024) return Errno(E2BIG);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

SyscallResult Getpid(Task& t, const SyscallArgs&) { return int64_t(t.tgid()); }
SyscallResult Gettid(Task& t, const SyscallArgs&) { return int64_t(t.tid()); }

SyscallResult Getppid(Task& t, const SyscallArgs&) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  auto p = t.thread_group().parent.lock();
  return int64_t(p ? p->pid() : 0);  // init's parent is outside the namespace
}

SyscallResult Clone(Task& t, const SyscallArgs& a) {
  // x86-64 order: flags, stack, parent_tid, child_tid, tls.
  CloneRequest r{a[0].raw, a[1].raw, a[2].raw, a[3].raw, a[4].raw};
  return CloneTask(t, r);
}

SyscallResult Clone3(Task& t, const SyscallArgs& a) {
  struct CloneArgs3 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
  } c{};
  size_t size = a[1].Size();
  if (size < 64 || size > 4096) return Errno(EINVAL);
  PAL_TRY_ERRNO(t.CopyIn(a[0].Ptr(), &c, std::min(size, sizeof(c))));
  if (c.exit_signal & ~0xffull) return Errno(EINVAL);
  if (c.set_tid || c.set_tid_size || c.cgroup) return Errno(EINVAL);
  CloneRequest r{c.flags | c.exit_signal, c.stack ? c.stack + c.stack_size : 0, c.parent_tid, c.child_tid, c.tls};
  return CloneTask(t, r);
}

SyscallResult Fork(Task& t, const SyscallArgs&) { return CloneTask(t, CloneRequest{SIGCHLD}); }

SyscallResult Vfork(Task& t, const SyscallArgs&) {
  return CloneTask(t, CloneRequest{CLONE_VM | CLONE_VFORK | SIGCHLD});
}

static SyscallResult DoExecve(Task& t, int dirfd, uint64_t path_addr, uint64_t argv, uint64_t envp, int flags) {
  PAL_TRY(std::string path, t.CopyInString(path_addr, 4096));
  PAL_TRY(auto args, CopyInStringArray(t, argv));
  PAL_TRY(auto env, CopyInStringArray(t, envp));
  PAL_TRY_ERRNO(ExecTask(t, path, dirfd, flags, std::move(args), std::move(env)));
  return int64_t(0);
}

SyscallResult Execve(Task& t, const SyscallArgs& a) {
  return DoExecve(t, AT_FDCWD, a[0].Ptr(), a[1].Ptr(), a[2].Ptr(), 0);
}

SyscallResult Execveat(Task& t, const SyscallArgs& a) {
  int flags = a[4].Int();
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) return Errno(EINVAL);
  return DoExecve(t, a[0].Fd(), a[1].Ptr(), a[2].Ptr(), a[3].Ptr(), flags);
}

SyscallResult Exit(Task& t, const SyscallArgs& a) {
  auto& in = t.internals();
  in.exit_wait_status = (a[0].Int() & 0xff) << 8;
  in.killed = true;
  return int64_t(0);
}

SyscallResult ExitGroup(Task& t, const SyscallArgs& a) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  TaskOps::GroupExitLocked(t.thread_group(), (a[0].Int() & 0xff) << 8);
  return int64_t(0);
}

// The usage wait4(2) and waitid(2) report for the child they waited for.
static struct rusage ChildRusage(const WaitResult& r) {
  struct rusage ru {};
  ru.ru_utime = NsToTimeval(r.utime_ns);
  ru.ru_stime = NsToTimeval(r.stime_ns);
  ru.ru_maxrss = static_cast<long>(r.maxrss_kb);
  return ru;
}

SyscallResult Wait4(Task& t, const SyscallArgs& a) {
  int pid = a[0].Int();
  int options = a[2].Int();
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) return Errno(EINVAL);
  int idtype = P_ALL, id = 0;
  if (pid > 0) {
    idtype = P_PID;
    id = pid;
  } else if (pid == 0) {
    idtype = P_PGID;
  } else if (pid < -1) {
    idtype = P_PGID;
    id = -pid;
  }
  // wait4's WUNTRACED is waitid's WSTOPPED (same bit); exits always count.
  PAL_TRY(WaitResult r, WaitForChild(t, idtype, id, (options & (WNOHANG | WUNTRACED | WCONTINUED)) | WEXITED));
  if (r.pid > 0 && a[1].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), int32_t(r.status)));
  if (r.pid > 0 && a[3].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[3].Ptr(), ChildRusage(r)));
  return int64_t(r.pid);
}

SyscallResult Waitid(Task& t, const SyscallArgs& a) {
  int idtype = a[0].Int();
  int id = a[1].Int();
  int options = a[3].Int();
  if (idtype != P_ALL && idtype != P_PID && idtype != P_PGID) return Errno(EINVAL);
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return Errno(EINVAL);
  if (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE))
    return Errno(EINVAL);
  if (idtype == P_PID && id <= 0) return Errno(EINVAL);
  PAL_TRY(WaitResult r, WaitForChild(t, idtype, id, options & (WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED)));
  if (a[2].Ptr()) {
    siginfo_t info{};
    if (r.pid > 0) {
      info.si_signo = SIGCHLD;
      info.si_pid = r.pid;
      info.si_uid = r.uid;
      if (WIFEXITED(r.status)) {
        info.si_code = CLD_EXITED;
        info.si_status = WEXITSTATUS(r.status);
      } else if (WIFSTOPPED(r.status)) {
        info.si_code = CLD_STOPPED;
        info.si_status = WSTOPSIG(r.status);
      } else if (WIFCONTINUED(r.status)) {
        info.si_code = CLD_CONTINUED;
        info.si_status = SIGCONT;
      } else {
        info.si_code = WCOREDUMP(r.status) ? CLD_DUMPED : CLD_KILLED;
        info.si_status = WTERMSIG(r.status);
      }
      info.si_utime = r.utime_ns / 10000000;  // clock ticks (100 Hz)
      info.si_stime = r.stime_ns / 10000000;
    }
    PAL_TRY_ERRNO(t.CopyOutObj(a[2].Ptr(), info));
  }
  // The raw syscall's fifth argument: the child's rusage (left alone when
  // WNOHANG found nothing, as Linux does).
  if (r.pid > 0 && a[4].Ptr()) PAL_TRY_ERRNO(t.CopyOutObj(a[4].Ptr(), ChildRusage(r)));
  return int64_t(0);
}

SyscallResult Getpgid(Task& t, const SyscallArgs& a) {
  int pid = a[0].Int();
  std::lock_guard<std::mutex> l(t.kernel().mu());
  if (pid == 0 || pid == t.tgid()) return int64_t(t.thread_group().pgid);
  auto task = t.kernel().TaskByTidLocked(pid);
  if (!task) return Errno(ESRCH);
  return int64_t(task->thread_group().pgid);
}

SyscallResult Getpgrp(Task& t, const SyscallArgs&) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  return int64_t(t.thread_group().pgid);
}

SyscallResult Getsid(Task& t, const SyscallArgs& a) {
  int pid = a[0].Int();
  std::lock_guard<std::mutex> l(t.kernel().mu());
  if (pid == 0) return int64_t(t.thread_group().sid);
  auto task = t.kernel().TaskByTidLocked(pid);
  if (!task) return Errno(ESRCH);
  return int64_t(task->thread_group().sid);
}

SyscallResult Setsid(Task& t, const SyscallArgs&) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  ThreadGroup& tg = t.thread_group();
  // EPERM if already a process group leader (or any group has our pid).
  for (auto& g : t.kernel().ThreadGroupsLocked())
    if (g->pgid == tg.pid()) return Errno(EPERM);
  tg.sid = tg.pgid = tg.pid();
  tg.ctty.reset();  // a new session starts without a controlling terminal
  return int64_t(tg.sid);
}

SyscallResult Setpgid(Task& t, const SyscallArgs& a) {
  int pid = a[0].Int(), pgid = a[1].Int();
  if (pgid < 0) return Errno(EINVAL);
  std::lock_guard<std::mutex> l(t.kernel().mu());
  ThreadGroup* target = &t.thread_group();
  if (pid != 0 && pid != t.tgid()) {
    auto task = t.kernel().TaskByTidLocked(pid);
    if (!task) return Errno(ESRCH);
    auto parent = task->thread_group().parent.lock();
    if (parent.get() != &t.thread_group()) return Errno(ESRCH);
    target = &task->thread_group();
    if (target->sid != t.thread_group().sid) return Errno(EPERM);
    // "EACCES ... the child had already performed an execve(2)".
    if (target->did_exec) return Errno(EACCES);
  }
  if (target->sid == target->pid()) return Errno(EPERM);  // session leader
  if (pgid == 0) pgid = target->pid();
  if (pgid != target->pid()) {
    bool exists = false;
    for (auto& g : t.kernel().ThreadGroupsLocked())
      exists |= (g->pgid == pgid && g->sid == target->sid);
    if (!exists) return Errno(EPERM);
  }
  target->pgid = pgid;
  return int64_t(0);
}

}  // namespace palisade::sys
