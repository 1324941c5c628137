// The per-task host thread body: create the platform context on this
// thread (if clone has not already), then switch to the app, take an event, handle it, deliver
// signals, and repeat until the task exits.
#pragma once

#include <memory>

#include "base/errno.h"

namespace palisade {

class Task;
// Creates t's platform context on the calling host thread (which must be
// the one that then runs t). Logs why it failed.
Errno CreateTaskContext(Task& t);
// Runs t on this host thread until it exits (creating its context first
// unless CreateTaskContext already did).
void RunTask(const std::shared_ptr<Task>& t);

}  // namespace palisade
