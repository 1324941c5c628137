// execve(2): load the new image into a fresh MemoryManager, then (only on
// success) kill the other threads, switch address spaces, close O_CLOEXEC
// fds and reset caught signal handlers.

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_clone.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/loader/loader.h"

namespace palisade {
namespace {

// Kills every other thread of t's group and waits until they are gone.
void DeThread(Task& t) {
  Kernel& k = t.kernel();
  for (;;) {
    {
      std::lock_guard<std::mutex> l(k.mu());
      auto& tasks = t.thread_group().tasks;
      if (tasks.size() <= 1) return;
      for (auto& other : tasks) {
        if (other.get() == &t) continue;
        other->internals().killed = true;
        TaskOps::Interrupt(*other);
      }
    }
    t.waiter().WaitFor(10);
  }
}

}  // namespace

Errno ExecTask(Task& t, const std::string& path, int dirfd, int at_flags, std::vector<std::string> argv,
               std::vector<std::string> envp) {
  Kernel& k = t.kernel();
  auto mm = std::make_shared<MemoryManager>(k.memory_file(), k.platform());
  loader::LoadRequest req;
  req.path = path;
  req.dirfd = dirfd;
  req.at_flags = at_flags;
  req.argv = std::move(argv);
  req.envp = std::move(envp);
  PAL_TRY(loader::LoadResult res, loader::Load(t, *mm, req));

  DeThread(t);
  auto& in = t.internals();
  // The old image's clear_child_tid futex is released as Linux's mm_release.
  in.clear_child_tid = 0;
  in.robust_list = 0;
  platform::Registers old = t.regs();
  const int64_t old_rss_kb = static_cast<int64_t>(t.mm().ResidentSize() / 1024);
  t.set_mm(mm);
  if (t.fds_ref().use_count() > 1) t.set_fds(t.fds().Fork());
  {
    // Before close-on-exec fds close: a parent watching one for EOF must
    // then get EACCES from setpgid(2) on us.
    std::lock_guard<std::mutex> l(k.mu());
    ThreadGroup& tg = t.thread_group();
    tg.did_exec = true;
    // execve(2): POSIX timers are not preserved; interval timers are.
    tg.timers.DeleteAllLocked(/*itimers=*/false);
    tg.maxrss_kb = std::max(tg.maxrss_kb, old_rss_kb);
  }
  t.fds().RemoveCloexec();
  t.set_comm(res.comm);
  {
    // capabilities(7): the sets recomputed for the new program.
    Credentials c = t.creds();
    c.TransformForExec();
    t.set_creds(c);
  }
  {
    std::lock_guard<std::mutex> l(k.mu());
    ThreadGroup& tg = t.thread_group();
    auto handlers = std::make_shared<SignalHandlers>(*tg.handlers);
    for (auto& a : handlers->actions) {
      if (a.handler != reinterpret_cast<uint64_t>(SIG_IGN)) a = KernelSigaction{};
    }
    tg.handlers = handlers;
    in.altstack = KernelStack{0, SS_DISABLE, 0, 0};
  }
  platform::Registers& r = t.regs();
  r = platform::Registers{};
  r.rip = res.entry;
  r.rsp = res.stack_pointer;
  r.cs = old.cs;
  r.ss = old.ss;
  r.ds = old.ds;
  r.es = old.es;
  r.eflags = 0x202;  // IF, and the always-one bit
  if (in.ctx) in.ctx->SetFpState(platform::InitialFpState());
  if (in.vfork) {
    in.vfork->done = true;
    if (auto p = in.vfork->parent.lock()) p->waiter().Notify();
    in.vfork.reset();
  }
  in.regs_replaced = true;
  return Errno::Ok();
}

}  // namespace palisade
