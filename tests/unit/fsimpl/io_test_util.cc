#include "tests/unit/fsimpl/io_test_util.h"

#include <sys/resource.h>

#include <algorithm>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"
#include "tests/unit/mm/fake_platform.h"

namespace palisade::testing {

IoTest::IoTest() {
  auto mf = MemoryFile::Create(1 << 20);  // real (tmpfs needs one), small: the app memory is doubled
  kernel_ = std::make_shared<Kernel>(std::move(*mf), std::make_unique<FakePlatform>(), KernelOptions{});
  auto tg = std::make_shared<ThreadGroup>(*kernel_, 1);
  for (int r = 0; r < RLIM_NLIMITS; r++) getrlimit(r, &tg->rlimits[r]);
  task_ = std::make_shared<Task>(*kernel_, tg, 1);
  task_->set_mm(std::make_shared<MemoryManager>(kernel_->memory_file(), kernel_->platform()));
  task_->set_fds(std::make_shared<FdTable>());
  task_->set_fs(std::make_shared<FsContext>());
}

std::shared_ptr<Task> IoTest::NewThread() {
  auto other = std::make_shared<Task>(*kernel_, task_->thread_group_ref(), 2);
  other->set_mm(task_->mm_ref());
  other->set_fds(task_->fds_ref());
  other->set_fs(task_->fs_ref());
  return other;
}

IoTest::~IoTest() {
  task_->fds().Clear();
  task_.reset();
  kernel_.reset();
}

void IoTest::RaiseSignal(int sig) {
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = SI_USER;
  {
    std::lock_guard<std::mutex> l(kernel_->mu());
    task_->internals().pending.push_back(info);
  }
  task_->waiter().Notify();
}

bool IoTest::SignalPending(int sig) {
  std::lock_guard<std::mutex> l(kernel_->mu());
  auto& p = task_->internals().pending;
  return std::any_of(p.begin(), p.end(), [sig](const siginfo_t& i) { return i.si_signo == sig; });
}

void IoTest::ClearSignals() {
  std::lock_guard<std::mutex> l(kernel_->mu());
  task_->internals().pending.clear();
}

void IoTest::SetNofile(uint64_t soft) {
  std::lock_guard<std::mutex> l(kernel_->mu());
  task_->thread_group().rlimits[RLIMIT_NOFILE].rlim_cur = soft;
}

}  // namespace palisade::testing
