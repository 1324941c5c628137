// Task exit, thread-group exit, reparenting and reaping.
#include "sentry/kernel/task_exit.h"

#include <linux/futex.h>
#include <sys/wait.h>

#include "spdlog/spdlog.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {
namespace {

// Does the parent want no zombies (SIGCHLD ignored or SA_NOCLDWAIT)?
bool ParentAutoReapsLocked(ThreadGroup& parent) {
  const auto& act = parent.handlers->actions[SIGCHLD];
  return act.handler == reinterpret_cast<uint64_t>(SIG_IGN) || (act.flags & SA_NOCLDWAIT);
}

void RemoveChildLocked(ThreadGroup& parent, ThreadGroup& child) {
  auto& c = parent.children;
  c.erase(std::remove_if(c.begin(), c.end(), [&](auto& p) { return p.get() == &child; }), c.end());
}

// The last thread of tg is gone: become a zombie, tell the parent, hand
// the children to init.
void ThreadGroupExitedLocked(Kernel& k, ThreadGroup& tg) {
  tg.zombie = true;
  if (tg.itimer_real_id) k.timers().Cancel(tg.itimer_real_id);
  tg.timers.DeleteAllLocked(/*itimers=*/true);
  auto init = k.init();
  bool is_init = init.get() == &tg;
  // Orphans go to the nearest living ancestor that is a child subreaper
  // (prctl(2) PR_SET_CHILD_SUBREAPER), else to init.
  std::shared_ptr<ThreadGroup> reaper = init;
  for (auto a = tg.parent.lock(); a; a = a->parent.lock()) {
    if (a->child_subreaper && !a->group_exiting) {
      reaper = a;
      break;
    }
  }
  for (auto& child : tg.children) {
    child->parent = reaper;
    if (!is_init && reaper) {
      reaper->children.push_back(child);
      if (child->zombie) reaper->child_events.Notify(kEventAll);
    }
    // PR_SET_PDEATHSIG: the child is told that its parent died.
    if (child->pdeath_signal > 0 && !child->zombie) {
      TaskOps::SendToGroupLocked(*child, MakeKillInfo(child->pdeath_signal, SI_USER, tg.pid(), 0));
    }
  }
  if (!is_init) tg.children.clear();
  if (is_init) {
    k.OnInitExitLocked(tg.group_exit_status);
    return;
  }
  auto parent = tg.parent.lock();
  if (!parent) return;
  int status = tg.group_exit_status;
  if (tg.exit_signal > 0) {
    siginfo_t info{};
    info.si_signo = tg.exit_signal;
    info.si_pid = tg.pid();
    if (WIFEXITED(status)) {
      info.si_code = CLD_EXITED;
      info.si_status = WEXITSTATUS(status);
    } else {
      info.si_code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
      info.si_status = WTERMSIG(status);
    }
    TaskOps::SendToGroupLocked(*parent, info);
  }
  if (ParentAutoReapsLocked(*parent)) {
    RemoveChildLocked(*parent, tg);
  }
  parent->child_events.Notify(kEventAll);
}

}  // namespace

void ExitTask(Task& t, int wait_status, bool group) {
  auto& in = t.internals();
  Kernel& k = t.kernel();
  {
    std::lock_guard<std::mutex> l(k.mu());
    if (in.exited) return;
    if (group) TaskOps::GroupExitLocked(t.thread_group(), wait_status);
  }
  // CLONE_CHILD_CLEARTID: pthread_join waits on this futex.
  if (in.clear_child_tid) {
    uint32_t zero = 0;
    if (t.mm().CopyOut(in.clear_child_tid, &zero, sizeof(zero)).ok()) {
      k.futexes().Wake(FutexKey{&t.mm(), in.clear_child_tid}, 1, FUTEX_BITSET_MATCH_ANY);
    }
    in.clear_child_tid = 0;
  }
  if (in.vfork) {
    in.vfork->done = true;
    if (auto p = in.vfork->parent.lock()) p->waiter().Notify();
    in.vfork.reset();
  }
  // Linux's exit_files() runs before exit_notify(): drop this thread's
  // reference to the fd table now, so the files (and the flock and record
  // locks held through them) are released before the parent can reap us.
  t.set_fds(std::make_shared<FdTable>());
  // The process's peak RSS is sampled when its last thread leaves (and at
  // execve and getrusage), not at every thread's exit: measuring walks the
  // whole address space's pages (~100 us for a thread-heavy process).
  bool last_thread;
  {
    std::lock_guard<std::mutex> l(k.mu());
    last_thread = t.thread_group().tasks.size() <= 1;
  }
  const int64_t rss_kb =
      last_thread && t.mm_ref() ? static_cast<int64_t>(t.mm().ResidentSize() / 1024) : 0;
  std::lock_guard<std::mutex> l(k.mu());
  in.exited = true;
  in.killed = true;
  ThreadGroup& tg = t.thread_group();
  // Its CPU time moves to the process total in the same step as it leaves
  // tg.tasks, so a reader never counts it twice or not at all.
  tg.exited_threads_cpu += in.cpu.Detach();
  tg.maxrss_kb = std::max(tg.maxrss_kb, rss_kb);
  auto& tasks = tg.tasks;
  tasks.erase(std::remove_if(tasks.begin(), tasks.end(), [&](auto& p) { return p.get() == &t; }), tasks.end());
  k.UnregisterTaskLocked(t.tid());
  if (!tg.group_exiting && tasks.empty()) {
    tg.group_exiting = true;
    tg.group_exit_status = wait_status;
  }
  if (tasks.empty()) ThreadGroupExitedLocked(k, tg);
  // Other threads blocked in de_thread (execve) poll for this.
  for (auto& other : tasks) other->waiter().Notify();
}

namespace {

bool MatchesLocked(Task& t, ThreadGroup& child, int idtype, int id) {
  switch (idtype) {
    case P_ALL: return true;
    case P_PID: return child.pid() == id;
    case P_PGID: return child.pgid == (id == 0 ? t.thread_group().pgid : id);
    default: return false;
  }
}

}  // namespace

ErrnoOr<WaitResult> WaitForChild(Task& t, int idtype, int id, int options) {
  Kernel& k = t.kernel();
  ThreadGroup& self = t.thread_group();
  Waiter& w = t.waiter();
  w.Clear();
  self.child_events.Register(&w, kEventAll);
  ErrnoOr<WaitResult> result = Errno(ECHILD);
  for (;;) {
    {
      std::lock_guard<std::mutex> l(k.mu());
      bool any = false;
      std::shared_ptr<ThreadGroup> found;
      int report = 0;  // the wait status for a stop or continue
      for (auto& c : self.children) {
        if (!MatchesLocked(t, *c, idtype, id)) continue;
        any = true;
        if (c->zombie) {
          if (!(options & WEXITED)) continue;
          found = c;
          break;
        }
        if ((options & WSTOPPED) && c->stopped && c->stop_report) {
          report = (c->stop_signal << 8) | 0x7f;
          if (!(options & WNOWAIT)) c->stop_report = false;
        } else if ((options & WCONTINUED) && c->cont_report) {
          report = 0xffff;
          if (!(options & WNOWAIT)) c->cont_report = false;
        }
        if (report) {
          WaitResult wr;
          wr.pid = c->pid();
          wr.status = report;
          CpuTimes used = ProcessCpuTimesLocked(*c);
          used += c->children_cpu;
          wr.utime_ns = used.user_ns;
          wr.stime_ns = used.sys_ns;
          wr.maxrss_kb = std::max(c->maxrss_kb, c->children_maxrss_kb);
          result = wr;
          break;
        }
      }
      if (report) break;
      if (!any) {
        result = Errno(ECHILD);
        break;
      }
      if (found) {
        WaitResult wr;
        wr.pid = found->pid();
        wr.status = found->group_exit_status;
        // The child's usage, its reaped children's included (RUSAGE_BOTH).
        CpuTimes used = found->exited_threads_cpu;
        used += found->children_cpu;
        wr.utime_ns = used.user_ns;
        wr.stime_ns = used.sys_ns;
        wr.maxrss_kb = std::max(found->maxrss_kb, found->children_maxrss_kb);
        if (!(options & WNOWAIT)) {
          RemoveChildLocked(self, *found);
          self.children_cpu += used;
          self.children_maxrss_kb = std::max(self.children_maxrss_kb, wr.maxrss_kb);
        }
        result = wr;
        break;
      }
      if (options & WNOHANG) {
        result = WaitResult{};
        break;
      }
    }
    Errno e = t.Block();
    if (!e.ok()) {
      result = Errno(kERESTARTSYS);
      break;
    }
    w.Clear();
  }
  self.child_events.Unregister(&w);
  return result;
}

}  // namespace palisade
