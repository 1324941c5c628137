// clone(2) and execve(2) cores, used by the process syscalls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/errno.h"

namespace palisade {

class Task;

struct CloneRequest {
  uint64_t flags = 0;  // CLONE_* | exit signal in the low byte
  uint64_t stack = 0;
  uint64_t parent_tid = 0;
  uint64_t child_tid = 0;
  uint64_t tls = 0;
};

// Creates and starts the new task; returns its tid in the caller's PID
// namespace. vfork waits here until the child execs or exits.
ErrnoOr<int> CloneTask(Task& parent, const CloneRequest& req);

// Replaces t's image (see execve(2)). On success the registers are set to
// the new entry point and the old image is gone; on failure t is intact.
Errno ExecTask(Task& t, const std::string& path, int dirfd, int at_flags, std::vector<std::string> argv,
               std::vector<std::string> envp);

}  // namespace palisade
