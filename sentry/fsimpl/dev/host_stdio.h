// Host stdio passthrough: the container's stdin/stdout/stderr (and its
// terminal, /dev/tty) are host fds the front end handed to the sentry. A
// HostStdioFile wraps a dup of one, so it shares the host open file
// description with the caller: the file offset, O_APPEND and the other
// status flags stay the caller's, and nothing here ever changes the host
// file's owner, mode or flags (no fchown/fchmod/F_SETFL on it; Debian's
// runsc chowns the stdio files it is given, which we must not do).
//
// Never blocking on the host. The host file's O_NONBLOCK flag is the
// caller's and cannot be set, so each transfer is made non-blocking per
// call instead: sockets use MSG_DONTWAIT; pipes use preadv2/pwritev2 with
// RWF_NOWAIT; ttys and other character devices (where RWF_NOWAIT is
// EOPNOTSUPP) use poll(fd, 0) first and only read/write when it says
// ready. Regular files and block devices never block and are used as is.
// EAGAIN goes back to the syscall layer, which sleeps polling
// HostFdForPoll() (sentry/syscalls/blocking_io.h). One residual race: if
// another host process drains a shared tty between our poll and our read,
// the read blocks this sentry thread until input comes.
//
// ioctls: TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCSWINSZ,
// TCFLSH, TCXONC, TCSBRK, TCSBRKP, TIOCOUTQ go to the host tty (ENOTTY
// when the fd is not a tty). TIOCGPGRP/TIOCSPGRP keep the sandbox's
// foreground process group for the terminal in the sentry (host process
// groups mean nothing inside); it starts at 1, the container's init, and
// is shared by every file on the same terminal. TIOCSCTTY succeeds (the
// sandbox has one terminal and everyone's controlling terminal is it).
// FIONREAD goes to the host for every kind of file.
//
// fstat shows the host's fstat (a char device, FIFO, socket or file, as
// the host says), except that a file opened through /dev/tty shows the
// devfs inode (5:0).
//
// EPIPE on write (a host pipe whose reader left) sends SIGPIPE to the
// writer, as Linux does. The sentry process must ignore SIGPIPE itself.
//
//   FileRef out = dev::NewHostStdioFile(1, fcntl(1, F_GETFL));
//   init.fds().Set(1, out, false);
#pragma once

#include "sentry/vfs/file_description.h"

namespace palisade::dev {

// Wraps a dup (close-on-exec in the sentry) of host_fd. flags: the open
// flags the sandbox sees through F_GETFL (usually fcntl(host_fd, F_GETFL));
// the access mode decides what read/write allow (EBADF otherwise), and
// O_NONBLOCK only tells the syscall layer not to sleep. Returns null if
// the host fd cannot be duplicated (closed, or out of fds).
FileRef NewHostStdioFile(int host_fd, int flags);

}  // namespace palisade::dev
