// Declarations of every syscall handler, grouped by the file that defines
// them. The table (table_x86_64.cc) is the only user. A handler gets the
// calling Task and the raw arguments, and returns a value or an Errno.
#pragma once

#include "sentry/syscalls/syscall.h"

namespace palisade::sys {

#define PAL_HANDLER(name) SyscallResult name(Task& t, const SyscallArgs& a)

// sys_read_write.cc: data transfer on fds
PAL_HANDLER(Read); PAL_HANDLER(Write); PAL_HANDLER(Pread64); PAL_HANDLER(Pwrite64);
PAL_HANDLER(Readv); PAL_HANDLER(Writev); PAL_HANDLER(Preadv); PAL_HANDLER(Pwritev);
PAL_HANDLER(Preadv2); PAL_HANDLER(Pwritev2); PAL_HANDLER(Lseek); PAL_HANDLER(Sendfile);
PAL_HANDLER(CopyFileRange);
// sys_open.cc: open/close and the fd table
PAL_HANDLER(Open); PAL_HANDLER(Openat); PAL_HANDLER(Creat); PAL_HANDLER(Close);
PAL_HANDLER(CloseRange); PAL_HANDLER(Dup); PAL_HANDLER(Dup2); PAL_HANDLER(Dup3);
PAL_HANDLER(Fcntl); PAL_HANDLER(Ioctl);
// sys_stat.cc: metadata
PAL_HANDLER(Stat); PAL_HANDLER(Fstat); PAL_HANDLER(Lstat); PAL_HANDLER(Newfstatat);
PAL_HANDLER(Statx); PAL_HANDLER(Statfs); PAL_HANDLER(Fstatfs); PAL_HANDLER(Access);
PAL_HANDLER(Faccessat); PAL_HANDLER(Faccessat2); PAL_HANDLER(Readlink); PAL_HANDLER(Readlinkat);
PAL_HANDLER(Chmod); PAL_HANDLER(Fchmod); PAL_HANDLER(Fchmodat); PAL_HANDLER(Chown);
PAL_HANDLER(Fchown); PAL_HANDLER(Lchown); PAL_HANDLER(Fchownat); PAL_HANDLER(Utimensat);
PAL_HANDLER(Utimes); PAL_HANDLER(Utime); PAL_HANDLER(Futimesat); PAL_HANDLER(Truncate);
PAL_HANDLER(Ftruncate); PAL_HANDLER(Fallocate); PAL_HANDLER(Fadvise64); PAL_HANDLER(Fsync);
PAL_HANDLER(Fdatasync); PAL_HANDLER(Sync); PAL_HANDLER(Syncfs);
// sys_dir.cc: namespace operations
PAL_HANDLER(Getdents64); PAL_HANDLER(Getdents); PAL_HANDLER(Mkdir); PAL_HANDLER(Mkdirat);
PAL_HANDLER(Rmdir); PAL_HANDLER(Unlink); PAL_HANDLER(Unlinkat); PAL_HANDLER(Rename);
PAL_HANDLER(Renameat); PAL_HANDLER(Renameat2); PAL_HANDLER(Symlink); PAL_HANDLER(Symlinkat);
PAL_HANDLER(Link); PAL_HANDLER(Linkat); PAL_HANDLER(Mknod); PAL_HANDLER(Mknodat);
PAL_HANDLER(Chdir); PAL_HANDLER(Fchdir); PAL_HANDLER(Getcwd); PAL_HANDLER(Umask);
PAL_HANDLER(Chroot); PAL_HANDLER(Mount); PAL_HANDLER(Umount2);

// sys_pipe.cc, sys_poll.cc, sys_epoll.cc, sys_eventfd.cc
PAL_HANDLER(Pipe); PAL_HANDLER(Pipe2); PAL_HANDLER(Poll); PAL_HANDLER(Ppoll);
PAL_HANDLER(Select); PAL_HANDLER(Pselect6); PAL_HANDLER(EpollCreate); PAL_HANDLER(EpollCreate1);
PAL_HANDLER(EpollCtl); PAL_HANDLER(EpollWait); PAL_HANDLER(EpollPwait); PAL_HANDLER(EpollPwait2);
PAL_HANDLER(Eventfd); PAL_HANDLER(Eventfd2);

// sys_mmap.cc: memory
PAL_HANDLER(Mmap); PAL_HANDLER(Munmap); PAL_HANDLER(Mprotect); PAL_HANDLER(Brk);
PAL_HANDLER(Mremap); PAL_HANDLER(Madvise); PAL_HANDLER(Msync); PAL_HANDLER(Mincore);
PAL_HANDLER(Mlock); PAL_HANDLER(Munlock); PAL_HANDLER(Mlockall); PAL_HANDLER(Munlockall);

// sys_thread.cc, sys_process.cc: tasks
PAL_HANDLER(Getpid); PAL_HANDLER(Gettid); PAL_HANDLER(Getppid); PAL_HANDLER(Clone);
PAL_HANDLER(Clone3); PAL_HANDLER(Fork); PAL_HANDLER(Vfork); PAL_HANDLER(Execve);
PAL_HANDLER(Execveat); PAL_HANDLER(Exit); PAL_HANDLER(ExitGroup); PAL_HANDLER(Wait4);
PAL_HANDLER(Waitid); PAL_HANDLER(SetTidAddress); PAL_HANDLER(SetRobustList);
PAL_HANDLER(GetRobustList); PAL_HANDLER(Rseq); PAL_HANDLER(ArchPrctl); PAL_HANDLER(Prctl);
PAL_HANDLER(Getpgid); PAL_HANDLER(Setpgid); PAL_HANDLER(Getpgrp); PAL_HANDLER(Getsid);
PAL_HANDLER(Setsid); PAL_HANDLER(SchedYield); PAL_HANDLER(SchedGetaffinity);
PAL_HANDLER(SchedSetaffinity); PAL_HANDLER(Getpriority); PAL_HANDLER(Setpriority);
PAL_HANDLER(SchedGetparam); PAL_HANDLER(SchedGetscheduler); PAL_HANDLER(Getrusage);
PAL_HANDLER(Times); PAL_HANDLER(Prlimit64); PAL_HANDLER(Getrlimit); PAL_HANDLER(Setrlimit);
PAL_HANDLER(Getcpu);
// sys_identity.cc: credentials
PAL_HANDLER(Getuid); PAL_HANDLER(Geteuid); PAL_HANDLER(Getgid); PAL_HANDLER(Getegid);
PAL_HANDLER(Setuid); PAL_HANDLER(Setgid); PAL_HANDLER(Setreuid); PAL_HANDLER(Setregid);
PAL_HANDLER(Setresuid); PAL_HANDLER(Setresgid); PAL_HANDLER(Getresuid); PAL_HANDLER(Getresgid);
PAL_HANDLER(Getgroups); PAL_HANDLER(Setgroups); PAL_HANDLER(Setfsuid); PAL_HANDLER(Setfsgid);
PAL_HANDLER(Capget); PAL_HANDLER(Capset);
// sys_signal.cc
PAL_HANDLER(RtSigaction); PAL_HANDLER(RtSigprocmask); PAL_HANDLER(RtSigreturn);
PAL_HANDLER(Kill); PAL_HANDLER(Tkill); PAL_HANDLER(Tgkill); PAL_HANDLER(Sigaltstack);
PAL_HANDLER(RtSigsuspend); PAL_HANDLER(RtSigpending); PAL_HANDLER(RtSigtimedwait);
PAL_HANDLER(RtSigqueueinfo); PAL_HANDLER(Pause);
// sys_futex.cc
PAL_HANDLER(Futex);
// sys_time.cc
PAL_HANDLER(ClockGettime); PAL_HANDLER(ClockGetres); PAL_HANDLER(Gettimeofday);
PAL_HANDLER(Time); PAL_HANDLER(Nanosleep); PAL_HANDLER(ClockNanosleep);
PAL_HANDLER(ClockSettime); PAL_HANDLER(Settimeofday); PAL_HANDLER(Alarm); PAL_HANDLER(Setitimer); PAL_HANDLER(Getitimer);
// sys_misc.cc
PAL_HANDLER(Uname); PAL_HANDLER(Sethostname); PAL_HANDLER(Sysinfo); PAL_HANDLER(Getrandom);

#undef PAL_HANDLER

}  // namespace palisade::sys
