// ProcessPool: a spare, fully set-up SystrapProcess kept ready, so that
// fork and exec do not wait for a stub process to be
// made (a factory round trip, a ptrace seize and a dozen injected set-up
// syscalls: ~1 ms on the 2-vCPU VM of docs/benchmarks.md). A systrap stub
// is untraced once set up, so whichever thread takes it can drive it
// (ptrace is only used during mapping syncs, by the thread doing them).
//
// The spare is made by a thread of the pool, started by the first Take()
// and refilled after each one; a failure (the pids limit, say) is not
// retried until the next Take(), which then makes its process itself and
// reports that error.
//
//   ProcessPool pool([&] { return SystrapProcess::Create(...); });
//   std::shared_ptr<SystrapProcess> p = pool.Take();  // null: make one now
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/systrap/systrap_process.h"

namespace palisade::platform {

class ProcessPool {
 public:
  using Maker = std::function<absl::StatusOr<std::shared_ptr<SystrapProcess>>()>;

  explicit ProcessPool(Maker make) : make_(std::move(make)) {}
  // Spares kept ready: fork then exec takes two in a row.
  static constexpr size_t kSpares = 2;

  // Stops the filler thread; the spares' stubs are killed.
  ~ProcessPool();
  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;

  // A spare if one is ready, else null; asks for new spares either way.
  std::shared_ptr<SystrapProcess> Take();

 private:
  void FillLoop();

  const Maker make_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<SystrapProcess>> spares_;  // guarded by mu_
  bool wanted_ = false;                    // guarded by mu_
  bool stop_ = false;                      // guarded by mu_
  std::thread filler_;                     // started by the first Take()
};

}  // namespace palisade::platform
