#include "sentry/kernel/task_clone.h"

#include <sched.h>

#include "spdlog/spdlog.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {

namespace {
constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;

Errno Validate(uint64_t f) {
  if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND)) return Errno(EINVAL);
  if ((f & CLONE_SIGHAND) && !(f & CLONE_VM)) return Errno(EINVAL);
  if ((f & CLONE_FS) && (f & CLONE_NEWNS)) return Errno(EINVAL);
  // Nested namespaces and pidfds are not supported by the sentry yet.
  if (f & kNamespaceFlags) return Errno(EPERM);
  if (f & CLONE_PIDFD) return Errno(EINVAL);
  return Errno::Ok();
}
}  // namespace

ErrnoOr<int> CloneTask(Task& parent, const CloneRequest& req) {
  const uint64_t f = req.flags;
  PAL_TRY_ERRNO(Validate(f));
  Kernel& k = parent.kernel();
  // As arch_prctl(ARCH_SET_FS): Linux refuses a TLS base outside user space.
  if ((f & CLONE_SETTLS) && req.tls >= k.platform().MaxUserAddress()) return Errno(EPERM);
  auto& pin = parent.internals();

  std::shared_ptr<MemoryManager> mm;
  if (f & CLONE_VM) {
    mm = parent.mm_ref();
  } else {
    PAL_TRY(mm, parent.mm().Fork());
  }
  std::shared_ptr<FdTable> fds = (f & CLONE_FILES) ? parent.fds_ref() : parent.fds().Fork();
  std::shared_ptr<FsContext> fs = (f & CLONE_FS) ? parent.fs_ref() : parent.fs().Fork();
  platform::FpState fp{};
  if (pin.ctx) pin.ctx->GetFpState(fp);

  int tid;
  {
    std::lock_guard<std::mutex> l(k.mu());
    if (parent.thread_group().group_exiting) return Errno(EINTR);
    tid = k.AllocatePidLocked();
  }
  // The child and its host thread exist before anything can see the
  // child: if the host refuses the thread or its platform context (pids
  // limit), clone fails with EAGAIN and nothing needs undoing.
  std::shared_ptr<ThreadGroup> tg =
      (f & CLONE_THREAD) ? parent.thread_group_ref() : std::make_shared<ThreadGroup>(k, tid);
  std::shared_ptr<Task> child = std::make_shared<Task>(k, tg, tid);
  // Before the launch: the platform context is prepared for this memory.
  child->set_mm(mm);
  PAL_TRY(std::unique_ptr<Kernel::TaskLaunch> launch, k.LaunchTask(child));

  std::shared_ptr<VforkCompletion> vfork;
  {
    std::lock_guard<std::mutex> l(k.mu());
    if (parent.thread_group().group_exiting) return Errno(EINTR);
    ThreadGroup& ptg = parent.thread_group();
    if (!(f & CLONE_THREAD)) {
      std::shared_ptr<ThreadGroup> new_parent = (f & CLONE_PARENT) ? ptg.parent.lock() : parent.thread_group_ref();
      if (!new_parent) new_parent = parent.thread_group_ref();  // init's CLONE_PARENT
      tg->parent = new_parent;
      new_parent->children.push_back(tg);
      if (f & CLONE_SIGHAND) {
        tg->handlers = ptg.handlers;
      } else {
        tg->handlers = std::make_shared<SignalHandlers>(*ptg.handlers);
      }
      tg->exit_signal = static_cast<int>(f & 0xff);
      tg->pgid = ptg.pgid;
      tg->sid = ptg.sid;
      tg->ctty = ptg.ctty;
      tg->rlimits = ptg.rlimits;
      tg->no_new_privs = ptg.no_new_privs;
      tg->start_mono_ns = MonotonicNowNs();
    }
    child->set_fds(fds);
    child->set_fs(fs);
    auto& cin = child->internals();
    cin.creds = parent.creds();
    cin.comm = parent.comm();
    cin.mask = pin.mask;
    cin.sched_policy = pin.sched_policy;
    cin.sched_priority = pin.sched_priority;
    cin.nice = pin.nice;
    // A thread sharing the address space must not share the alt stack.
    if ((f & CLONE_VM) && !(f & CLONE_VFORK)) {
      cin.altstack = KernelStack{0, SS_DISABLE, 0, 0};
    } else {
      cin.altstack = pin.altstack;
    }
    cin.initial_fp = fp;
    if (f & CLONE_CHILD_CLEARTID) cin.clear_child_tid = req.child_tid;
    platform::Registers& r = child->regs();
    r = parent.regs();
    r.rax = 0;
    if (req.stack) r.rsp = req.stack;
    if (f & CLONE_SETTLS) r.fs_base = req.tls;
    if (f & CLONE_VFORK) {
      vfork = std::make_shared<VforkCompletion>();
      vfork->parent = parent.shared_from_this();
      cin.vfork = vfork;
    }
    tg->tasks.push_back(child);
    k.RegisterTaskLocked(child);
  }
  if (f & CLONE_CHILD_SETTID) {
    int32_t v = tid;
    (void)child->mm().CopyOut(req.child_tid, &v, sizeof(v));
  }
  if (f & CLONE_PARENT_SETTID) {
    int32_t v = tid;
    (void)parent.mm().CopyOut(req.parent_tid, &v, sizeof(v));
  }
  launch->Run();
  if (vfork) {
    // Linux's vfork wait is killable but not interruptible by signals.
    while (!vfork->done && !pin.killed) {
      parent.waiter().WaitFor(50);
    }
  }
  return tid;
}

}  // namespace palisade
