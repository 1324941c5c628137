#include "sentry/fsimpl/devpts/terminal.h"

#include <linux/capability.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include <cstring>
#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade {

// Process-tree side of job control. All REQUIRE Kernel::mu() held.
struct TerminalJobControl {
  static bool IgnoredOrBlocked(Task& t, int sig) {
    const auto& act = t.thread_group().handlers->actions[sig];
    return act.handler == reinterpret_cast<uint64_t>(SIG_IGN) || t.internals().mask.Has(sig);
  }
  static void SignalPgrp(Kernel& k, int pgid, int sig) {
    if (pgid <= 0) return;
    for (auto& tg : k.ThreadGroupsLocked()) {
      if (tg->pgid == pgid && !tg->zombie && !tg->tasks.empty()) {
        TaskOps::SendToGroupLocked(*tg, MakeKillInfo(sig, SI_KERNEL, 0, 0));
      }
    }
  }
  // Every process with this controlling terminal loses it.
  static void Detach(Kernel& k, Terminal& term, bool signal_leaders) {
    for (auto& tg : k.ThreadGroupsLocked()) {
      if (tg->ctty.get() != &term) continue;
      if (signal_leaders && tg->sid == tg->pid() && !tg->tasks.empty()) {
        TaskOps::SendToGroupLocked(*tg, MakeKillInfo(SIGHUP, SI_KERNEL, 0, 0));
        TaskOps::SendToGroupLocked(*tg, MakeKillInfo(SIGCONT, SI_KERNEL, 0, 0));
      }
      tg->ctty.reset();
    }
    term.session_ = 0;
    term.fg_pgrp_ = 0;
  }
};

using JC = TerminalJobControl;

Terminal::Terminal(Kernel& k, int index, uint32_t uid, uint32_t gid)
    : kernel_(k), index_(index), uid_(uid), gid_(gid) {
  clock_gettime(CLOCK_REALTIME, &ctime_);
  atime_ = mtime_ = ctime_;
  winsize_ = {};  // 0x0 until someone sets it, as Linux
}

bool Terminal::locked() const {
  std::lock_guard<std::mutex> l(mu_);
  return locked_;
}

void Terminal::set_locked(bool v) {
  std::lock_guard<std::mutex> l(mu_);
  locked_ = v;
}

bool Terminal::hung_up() const {
  std::lock_guard<std::mutex> l(mu_);
  return !master_open_;
}

ErrnoOr<int64_t> Terminal::MasterRead(std::span<uint8_t> dst) {
  std::string out;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!ld_.ReadableByMaster()) return Errno(replica_closed_ ? EIO : EAGAIN);
    ld_.ReadOutput(dst.size(), &out);
  }
  memcpy(dst.data(), out.data(), out.size());
  replica_queue_.Notify(POLLOUT | POLLWRNORM);
  return static_cast<int64_t>(out.size());
}

ErrnoOr<int64_t> Terminal::MasterWrite(std::span<const uint8_t> src) {
  std::vector<int> sigs;
  size_t n = 0;
  bool echoed;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!ld_.InputRoom()) return Errno(EAGAIN);
    sigs = ld_.Input(std::string_view(reinterpret_cast<const char*>(src.data()), src.size()), &n);
    echoed = ld_.ReadableByMaster();
  }
  if (n == 0 && !src.empty()) return Errno(EAGAIN);
  replica_queue_.Notify(POLLIN | POLLRDNORM);
  if (echoed) master_queue_.Notify(POLLIN | POLLRDNORM);
  for (int sig : sigs) SignalForeground(sig);
  return static_cast<int64_t>(n);
}

Errno Terminal::CheckBackground(Task& t, int sig, bool eio_if_ignored) {
  std::lock_guard<std::mutex> l(kernel_.mu());
  ThreadGroup& tg = t.thread_group();
  if (tg.ctty.get() != this || fg_pgrp_ == 0 || tg.pgid == fg_pgrp_) return Errno::Ok();
  if (JC::IgnoredOrBlocked(t, sig)) return eio_if_ignored ? Errno(EIO) : Errno::Ok();
  JC::SignalPgrp(kernel_, tg.pgid, sig);
  return Errno(kERESTARTSYS);
}

ErrnoOr<int64_t> Terminal::ReplicaRead(Task& t, std::span<uint8_t> dst) {
  PAL_TRY_ERRNO(CheckBackground(t, SIGTTIN, /*eio_if_ignored=*/true));
  std::string out;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!master_open_) return int64_t{0};  // hung up: end of file
    if (!ld_.Read(dst.size(), &out)) return Errno(EAGAIN);
  }
  memcpy(dst.data(), out.data(), out.size());
  master_queue_.Notify(POLLOUT | POLLWRNORM);
  return static_cast<int64_t>(out.size());
}

ErrnoOr<int64_t> Terminal::ReplicaWrite(Task& t, std::span<const uint8_t> src) {
  bool tostop;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!master_open_) return Errno(EIO);
    tostop = ld_.termios().c_lflag & TOSTOP;
  }
  if (tostop) PAL_TRY_ERRNO(CheckBackground(t, SIGTTOU, false));
  size_t n;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!ld_.OutputRoom()) return Errno(EAGAIN);
    n = ld_.Output(std::string_view(reinterpret_cast<const char*>(src.data()), src.size()));
  }
  master_queue_.Notify(POLLIN | POLLRDNORM);
  return static_cast<int64_t>(n);
}

void Terminal::SetWindowSize(const struct winsize& ws) {
  bool changed;
  {
    std::lock_guard<std::mutex> l(mu_);
    changed = memcmp(&ws, &winsize_, sizeof(ws)) != 0;
    winsize_ = ws;
  }
  if (changed) SignalForeground(SIGWINCH);
}

uint32_t Terminal::MasterReadiness(uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  uint32_t r = 0;
  if (ld_.ReadableByMaster()) r |= POLLIN | POLLRDNORM;
  if (ld_.InputRoom()) r |= POLLOUT | POLLWRNORM;
  if (replica_closed_) r |= POLLHUP;
  return r & (mask | POLLHUP | POLLERR);
}

uint32_t Terminal::ReplicaReadiness(uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  if (!master_open_) return (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP | POLLERR) & (mask | POLLHUP | POLLERR);
  uint32_t r = 0;
  if (ld_.ReadableByReplica()) r |= POLLIN | POLLRDNORM;
  if (ld_.OutputRoom()) r |= POLLOUT | POLLWRNORM;
  return r & mask;
}

void Terminal::SignalForeground(int sig) {
  std::lock_guard<std::mutex> l(kernel_.mu());
  JC::SignalPgrp(kernel_, fg_pgrp_, sig);
}

void Terminal::ReplicaOpened(Task* opener, bool noctty) {
  {
    std::lock_guard<std::mutex> l(mu_);
    replica_opens_++;
    replica_closed_ = false;
  }
  if (noctty || !opener) return;
  std::lock_guard<std::mutex> l(kernel_.mu());
  ThreadGroup& tg = opener->thread_group();
  if (tg.sid == tg.pid() && !tg.ctty && session_ == 0) {
    tg.ctty = shared_from_this();
    session_ = tg.sid;
    fg_pgrp_ = tg.pgid;
  }
}

void Terminal::ReplicaClosed() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (--replica_opens_ == 0) replica_closed_ = true;
  }
  master_queue_.Notify(POLLIN | POLLOUT | POLLHUP);
}

void Terminal::MasterClosed() {
  {
    std::lock_guard<std::mutex> l(mu_);
    master_open_ = false;
  }
  replica_queue_.Notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
  // The file may be released with Kernel::mu() held (a task's fd table
  // going away): the signals go out from the timer thread.
  auto self = shared_from_this();
  kernel_.timers().Schedule(MonotonicNowNs(), [self] { self->Hangup(); });
}

void Terminal::Hangup() {
  std::lock_guard<std::mutex> l(kernel_.mu());
  JC::Detach(kernel_, *this, /*signal_leaders=*/true);
}

InodeAttr Terminal::ReplicaAttr(uint64_t dev) const {
  std::lock_guard<std::mutex> l(mu_);
  InodeAttr a;
  a.dev = dev;
  a.ino = static_cast<uint64_t>(index_) + 3;  // devpts: root 1, ptmx 2, N at N+3
  a.mode = S_IFCHR | mode_;
  a.uid = uid_;
  a.gid = gid_;
  a.rdev = makedev(136, index_);
  a.blksize = 1024;
  a.atime = atime_;
  a.mtime = mtime_;
  a.ctime = ctime_;
  return a;
}

void Terminal::SetReplicaAttr(const SetAttrRequest& req) {
  std::lock_guard<std::mutex> l(mu_);
  if (req.mask & SetAttrRequest::kMode) mode_ = req.mode & 07777;
  if (req.mask & SetAttrRequest::kUid) uid_ = req.uid;
  if (req.mask & SetAttrRequest::kGid) gid_ = req.gid;
  if (req.mask & SetAttrRequest::kAtime) atime_ = req.atime;
  if (req.mask & SetAttrRequest::kMtime) mtime_ = req.mtime;
  if (req.mask & SetAttrRequest::kCtime) ctime_ = req.ctime;
}

Errno Terminal::SetControllingTerminal(Task& t, bool steal) {
  bool admin = t.creds().HasCap(CAP_SYS_ADMIN);
  std::lock_guard<std::mutex> l(kernel_.mu());
  ThreadGroup& tg = t.thread_group();
  bool leader = tg.sid == tg.pid();
  if (leader && tg.ctty.get() == this) return Errno::Ok();
  if (!leader || tg.ctty) return Errno(EPERM);
  if (session_ != 0) {
    if (!(steal && admin)) return Errno(EPERM);
    JC::Detach(kernel_, *this, /*signal_leaders=*/false);
  }
  tg.ctty = shared_from_this();
  session_ = tg.sid;
  fg_pgrp_ = tg.pgid;
  return Errno::Ok();
}

ErrnoOr<int64_t> Terminal::Ioctl(Task& t, bool master, uint64_t cmd, uint64_t arg) {
  switch (cmd) {
    case TCGETS: {
      KernelTermios tio;
      {
        std::lock_guard<std::mutex> l(mu_);
        tio = ld_.termios();
      }
      PAL_TRY_ERRNO(t.CopyOutObj(arg, tio));
      return int64_t{0};
    }
    case TCSETS: case TCSETSW: case TCSETSF: {
      KernelTermios tio;
      PAL_TRY_ERRNO(t.CopyInObj(arg, tio));
      if (!master) PAL_TRY_ERRNO(CheckBackground(t, SIGTTOU, false));
      {
        std::lock_guard<std::mutex> l(mu_);
        if (cmd == TCSETSF) ld_.FlushInput();
        ld_.SetTermios(tio);
      }
      // Readability may change with ICANON/VMIN.
      replica_queue_.Notify(POLLIN | POLLRDNORM);
      return int64_t{0};
    }
    case TIOCGWINSZ: {
      struct winsize ws;
      {
        std::lock_guard<std::mutex> l(mu_);
        ws = winsize_;
      }
      PAL_TRY_ERRNO(t.CopyOutObj(arg, ws));
      return int64_t{0};
    }
    case TIOCSWINSZ: {
      struct winsize ws;
      PAL_TRY_ERRNO(t.CopyInObj(arg, ws));
      SetWindowSize(ws);
      return int64_t{0};
    }
    case TIOCGPGRP: case TIOCGSID: {
      int v;
      {
        std::lock_guard<std::mutex> l(kernel_.mu());
        // The replica answers only its own session; the master anyone.
        if (!master && t.thread_group().ctty.get() != this) return Errno(ENOTTY);
        v = cmd == TIOCGPGRP ? fg_pgrp_ : session_;
        if (cmd == TIOCGSID && v == 0) return Errno(ENOTTY);
      }
      PAL_TRY_ERRNO(t.CopyOutObj(arg, v));
      return int64_t{0};
    }
    case TIOCSPGRP: {
      if (!master) PAL_TRY_ERRNO(CheckBackground(t, SIGTTOU, false));
      int pgrp;
      PAL_TRY_ERRNO(t.CopyInObj(arg, pgrp));
      std::lock_guard<std::mutex> l(kernel_.mu());
      ThreadGroup& tg = t.thread_group();
      if (tg.ctty.get() != this || session_ != tg.sid) return Errno(ENOTTY);
      if (pgrp < 0) return Errno(EINVAL);
      bool found = false, same_session = false;
      for (auto& g : kernel_.ThreadGroupsLocked()) {
        if (g->pgid != pgrp || g->zombie) continue;
        found = true;
        same_session |= g->sid == session_;
      }
      if (!found) return Errno(ESRCH);
      if (!same_session) return Errno(EPERM);
      fg_pgrp_ = pgrp;
      return int64_t{0};
    }
    case TIOCSCTTY:
      PAL_TRY_ERRNO(SetControllingTerminal(t, arg == 1));
      return int64_t{0};
    case TIOCNOTTY: {
      std::lock_guard<std::mutex> l(kernel_.mu());
      ThreadGroup& tg = t.thread_group();
      if (tg.ctty.get() != this) return Errno(ENOTTY);
      if (tg.sid == tg.pid()) {
        // disassociate_ctty(0): the foreground group hears about it.
        int fg = fg_pgrp_;
        JC::Detach(kernel_, *this, false);
        JC::SignalPgrp(kernel_, fg, SIGHUP);
        JC::SignalPgrp(kernel_, fg, SIGCONT);
      } else {
        tg.ctty.reset();
      }
      return int64_t{0};
    }
    case FIONREAD: case TIOCOUTQ: {
      int n;
      {
        std::lock_guard<std::mutex> l(mu_);
        bool in = cmd == FIONREAD;
        // The master's input is the replica's output, and vice versa.
        n = static_cast<int>(in != master ? ld_.InputAvailable() : ld_.OutputQueued());
        if (master && !in) n = 0;  // what the master wrote is consumed at once
      }
      PAL_TRY_ERRNO(t.CopyOutObj(arg, n));
      return int64_t{0};
    }
    case TCFLSH: {
      if (arg > TCIOFLUSH) return Errno(EINVAL);
      {
        std::lock_guard<std::mutex> l(mu_);
        bool flush_in = arg == TCIFLUSH || arg == TCIOFLUSH;
        bool flush_out = arg == TCOFLUSH || arg == TCIOFLUSH;
        if (master) std::swap(flush_in, flush_out);
        if (flush_in) ld_.FlushInput();
        if (flush_out) ld_.FlushOutput();
      }
      master_queue_.Notify(POLLOUT | POLLWRNORM);
      replica_queue_.Notify(POLLOUT | POLLWRNORM);
      return int64_t{0};
    }
    case TCXONC:
      if (arg > TCION) return Errno(EINVAL);
      return int64_t{0};  // flow control is not modelled (line_discipline.h)
    case TCSBRK: case TCSBRKP:
      return int64_t{0};  // a pty has no line to send a break on
    case TIOCGPTN: {
      if (!master) return Errno(ENOTTY);
      uint32_t n = static_cast<uint32_t>(index_);
      PAL_TRY_ERRNO(t.CopyOutObj(arg, n));
      return int64_t{0};
    }
    case TIOCSPTLCK: case TIOCGPTLCK: {
      if (!master) return Errno(ENOTTY);
      int v;
      if (cmd == TIOCSPTLCK) {
        PAL_TRY_ERRNO(t.CopyInObj(arg, v));
        std::lock_guard<std::mutex> l(mu_);
        locked_ = v != 0;
        return int64_t{0};
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        v = locked_;
      }
      PAL_TRY_ERRNO(t.CopyOutObj(arg, v));
      return int64_t{0};
    }
    default:
      return Errno(ENOTTY);
  }
}

}  // namespace palisade
