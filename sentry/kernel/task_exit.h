// Task and thread-group exit, and reaping (wait4/waitid).
#pragma once

#include <cstdint>

#include "base/errno.h"

namespace palisade {

class Task;

// Ends task t. If group is true (or t is the last thread), the whole
// thread group exits with wait_status; otherwise the group's status is
// taken from exit_group/exit of the last thread. Safe to call twice.
void ExitTask(Task& t, int wait_status, bool group);

// wait4/waitid core. which: P_ALL/P_PID/P_PGID (pgid 0 = caller's group).
struct WaitResult {
  int pid = 0;       // 0 with WNOHANG and nothing ready
  int status = 0;    // wait status
  uint32_t uid = 0;
  // The child's CPU time and peak RSS, its reaped children's included
  // (wait4's rusage).
  int64_t utime_ns = 0;
  int64_t stime_ns = 0;
  int64_t maxrss_kb = 0;
};
ErrnoOr<WaitResult> WaitForChild(Task& t, int idtype, int id, int options);

}  // namespace palisade
