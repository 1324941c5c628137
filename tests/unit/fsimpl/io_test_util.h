// A fixture for fsimpl unit tests: one Task to drive FileDescriptions,
// syscall handlers and waits with, plus helpers to raise signals at it.
//
// The Task, ThreadGroup, FdTable, Waiter, signal masks and Task::Block
// are the real ones (sentry/kernel). Two things are test doubles
// (kernel_double.cc), because the real ones drag in the whole sentry:
//  - the Kernel's constructor (the real one starts the task machinery);
//  - the MemoryManager: app addresses are the test's own pointers (an
//    identity mapping), and addresses below 64 KiB fault (EFAULT).
// SendSigpipe() queues SIGPIPE on the task as the real one does.
//
//   TEST_F(IoTest, Example) {
//     int n = 0;
//     file->Ioctl(t(), FIONREAD, Addr(&n));
//   }
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "sentry/kernel/task.h"

namespace palisade::testing {

class IoTest : public ::testing::Test {
 protected:
  IoTest();
  ~IoTest() override;

  Task& t() { return *task_; }
  // Another thread of the same process (own waiter, shared fd table).
  std::shared_ptr<Task> NewThread();
  static uint64_t Addr(const void* p) { return reinterpret_cast<uint64_t>(p); }
  static constexpr uint64_t kBadAddr = 0x1000;  // faults

  // Queues signal sig for the task (unblocked unless the mask says
  // otherwise), waking a Block() in progress.
  void RaiseSignal(int sig);
  bool SignalPending(int sig);
  void ClearSignals();
  // Sets the task's RLIMIT_NOFILE soft limit (poll's nfds cap, fd limits).
  void SetNofile(uint64_t soft);

 private:
  std::shared_ptr<Kernel> kernel_;
  std::shared_ptr<Task> task_;
};

}  // namespace palisade::testing
