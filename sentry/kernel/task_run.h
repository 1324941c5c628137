// The per-task host thread body: create the platform context on this
// thread, then switch to the app, take an event, handle it, deliver
// signals, and repeat until the task exits.
#pragma once

#include <memory>

namespace palisade {

class Task;
void RunTask(const std::shared_ptr<Task>& t);

}  // namespace palisade
