#include "sentry/kernel/thread_group.h"

#include "sentry/kernel/task.h"

namespace palisade {

std::shared_ptr<Task> ThreadGroup::LeaderLocked() const {
  for (const auto& t : tasks) {
    if (t->tid() == pid_) return t;
  }
  // The leader has exited (pthread_exit in main) while others run on.
  return tasks.empty() ? nullptr : tasks.front();
}

}  // namespace palisade
