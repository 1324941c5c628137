// /proc/<pid> directory construction (proc_pid.cc).
#pragma once

#include <memory>
#include <string>

#include "sentry/vfs/inode.h"

namespace palisade {
class Kernel;
class Task;
namespace procfs {
InodeRef NewTaskDir(Kernel& k, const std::string& key, std::shared_ptr<Task> task, bool with_tasks);
}  // namespace procfs
}  // namespace palisade
