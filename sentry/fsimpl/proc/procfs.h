// procfs: /proc as Linux shows it, generated from the sentry's own state
// (never the host's, except /proc/cpuinfo, which describes the real CPU).
// Per-process directories appear for every live or zombie thread group;
// "self" and "thread-self" resolve against the reading task.
#pragma once

#include "sentry/vfs/inode.h"

namespace palisade {

class Kernel;
class Task;
class ThreadGroup;

namespace procfs {

InodeRef NewProcfsRoot(Kernel& k);

// Generators shared by /proc/<pid>/ and /proc/<pid>/task/<tid>/ (proc_pid_files.cc).
std::string StatusText(Task& t);
std::string StatText(Task& t);
std::string StatmText(Task& t);
ErrnoOr<std::string> CmdlineText(Task& t, bool environ);
std::string MountsText(Task& t);
std::string LimitsText(Task& t);

}  // namespace procfs
}  // namespace palisade
