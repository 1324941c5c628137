// Terminal: one pseudoterminal pair (Linux's pair of tty_structs behind
// /dev/ptmx and /dev/pts/N): the line discipline, the window size, the
// replica's inode attributes, and the job-control state (session and
// foreground process group). The master and replica files (pty_files.h)
// are thin wrappers that call in here.
//
//   auto term = std::make_shared<Terminal>(kernel, /*index=*/0, uid, gid);
//   term->MasterWrite(t, "echo hi\r")   // the replica reads "echo hi\n"
//   term->ReplicaWrite(t, "hi\n")       // the master reads "hi\r\n"
//
// Hangup: when the master's last file closes, the replica reads 0 and
// writes fail with EIO; every session that has this terminal as its
// controlling terminal loses it, and its leader gets SIGHUP and SIGCONT
// (tty_vhangup of the pty's other end). The master reads EIO once every
// replica file has closed (after one was opened), and polls POLLHUP.
//
// Job control: a background process group reading its controlling
// terminal gets SIGTTIN (EIO if it ignores or blocks it); with TOSTOP a
// background write gets SIGTTOU; TIOCSPGRP and TCSETS* from the
// background get SIGTTOU unless it is ignored or blocked (tty_check_change).
//
// Lock order: Kernel::mu() before Terminal::mu_. session_ and fg_pgrp_ are
// guarded by Kernel::mu() (they are process-tree state); the data by mu_.
// Nothing here takes Kernel::mu() while holding mu_, and the master's
// close defers its signals to the TimerService thread, because files may
// be released with Kernel::mu() held.
#pragma once

#include <sys/ioctl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "base/errno.h"
#include "sentry/fsimpl/devpts/line_discipline.h"
#include "sentry/kernel/waiter.h"
#include "sentry/vfs/inode.h"

namespace palisade {

class Kernel;
class Task;

class Terminal : public std::enable_shared_from_this<Terminal> {
 public:
  Terminal(Kernel& k, int index, uint32_t uid, uint32_t gid);

  int index() const { return index_; }
  Kernel& kernel() const { return kernel_; }

  // --- data transfer (never blocks: EAGAIN; blocking_io.h sleeps)
  ErrnoOr<int64_t> MasterRead(std::span<uint8_t> dst);
  ErrnoOr<int64_t> MasterWrite(std::span<const uint8_t> src);
  ErrnoOr<int64_t> ReplicaRead(Task& t, std::span<uint8_t> dst);
  ErrnoOr<int64_t> ReplicaWrite(Task& t, std::span<const uint8_t> src);
  uint32_t MasterReadiness(uint32_t mask);
  uint32_t ReplicaReadiness(uint32_t mask);
  WaitQueue& master_queue() { return master_queue_; }
  WaitQueue& replica_queue() { return replica_queue_; }

  // tty ioctls for either end (master: the TIOC*PT* ones too; TIOCGPTPEER
  // is the master file's, which can open a replica).
  ErrnoOr<int64_t> Ioctl(Task& t, bool master, uint64_t cmd, uint64_t arg);

  // TIOCSWINSZ from outside any task (the console relay, sentry/console_relay.h):
  // a change sends SIGWINCH to the foreground process group.
  void SetWindowSize(const struct winsize& ws);

  // --- life cycle
  bool locked() const;       // TIOCSPTLCK: replica opens fail with EIO
  void set_locked(bool v);
  bool hung_up() const;
  // A replica file was opened. Without O_NOCTTY, a session leader with no
  // controlling terminal acquires this one (tty_open_proc_set_tty).
  void ReplicaOpened(Task* opener, bool noctty);
  void ReplicaClosed();
  void MasterClosed();

  // --- /dev/pts/N attributes (chmod/chown of the replica node)
  InodeAttr ReplicaAttr(uint64_t dev) const;
  void SetReplicaAttr(const SetAttrRequest& req);

  // Makes this the controlling terminal of t's session (TIOCSCTTY rules;
  // steal: arg 1 with CAP_SYS_ADMIN). EPERM if t is not a session leader,
  // already has another one, or the terminal belongs to another session.
  Errno SetControllingTerminal(Task& t, bool steal);

 private:
  // Sends sig to the foreground process group (if any), later on the
  // timer thread if `deferred`.
  void SignalForeground(int sig);
  // SIGTTIN/SIGTTOU rules for a background caller: Ok, EIO, or
  // ERESTARTSYS after signalling the caller's process group.
  Errno CheckBackground(Task& t, int sig, bool eio_if_ignored);
  void Hangup();  // on the timer thread

  Kernel& kernel_;
  const int index_;
  WaitQueue master_queue_, replica_queue_;

  mutable std::mutex mu_;
  LineDiscipline ld_;
  struct winsize winsize_ {};
  bool locked_ = true;        // ptmx opens a locked pair (unlockpt clears it)
  bool master_open_ = true;
  int replica_opens_ = 0;
  bool replica_closed_ = false;  // every replica file closed after one opened
  uint32_t uid_, gid_, mode_ = 0620;
  struct timespec atime_ {}, mtime_{}, ctime_{};

  // Guarded by Kernel::mu().
  int session_ = 0;   // sid of the session it controls, 0 = none
  int fg_pgrp_ = 0;   // foreground process group
  friend struct TerminalJobControl;
};

}  // namespace palisade
