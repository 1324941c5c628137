// SystrapProcess: the host process that runs one application address
// space on the systrap platform. Every application thread of that address
// space is a host thread of it (SpawnThread), so a new app thread costs a
// clone() in an existing process, not a new process with the whole
// address space replayed into it; and a mapping change is made once for
// all of them (Sync).
//
// The process's first thread, the spawner, never runs app code: it waits
// in the stub page for SPAWN requests and clones each app thread's host
// thread with its own region (shared_region.h). Each host thread then
// waits there for its first RUN (context.h drives it).
//
//   PAL_ASSIGN_OR_RETURN(std::shared_ptr<SystrapProcess> p, SystrapProcess::Create(...));
//   PAL_ASSIGN_OR_RETURN(SystrapProcess::Thread t, p->SpawnThread());
//   ... p->Sync(as, t) before each run ...
//   p->ReleaseThread(t);
//
// Thread-safe: the contexts of one address space use it from their own
// sentry threads. The process is killed when the last reference goes.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/ptrace/address_space.h"
#include "platform/ptrace/mapping_sync.h"
#include "platform/ptrace/stub_page.h"
#include "platform/ptrace/stub_process.h"
#include "platform/systrap/memop_listener.h"
#include "platform/systrap/shared_region.h"
#include "platform/systrap/stub_variant.h"

namespace palisade::platform {

class SystrapProcess {
 public:
  // One host thread of the process.
  struct Thread {
    int slot = -1;
    std::unique_ptr<StubProcess> handle;  // ptrace and kicks for this thread
    SharedRegion region;
  };

  // Spawns a stub from the factory and sets it up (mappings of the shared
  // regions, signal handlers, the filter from BuildSystrapFilter(), the
  // spawner waiting) with its first app thread already made: a fresh
  // process (from the pool) is taken for a fork or an execve, whose first
  // SpawnThread() then does not wait for a clone.
  static absl::StatusOr<std::shared_ptr<SystrapProcess>> Create(
      const StubPage& page, int memfd, const std::vector<sock_filter>& filter,
      SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr);
  // Kills the process without waiting for it to be gone: the last thread
  // to leave an address space (an exit, an execve) does not wait for it.
  ~SystrapProcess() { stub_->Abandon(); }

  // A new host thread, waiting in the stub page for its first RUN (through
  // the region's fresh frame, which the caller builds). EAGAIN when every
  // region slot is taken.
  absl::StatusOr<Thread> SpawnThread();
  // Tells t's host thread (waiting in the stub page) to exit; its slot is
  // reused once it has.
  void ReleaseThread(Thread& t);
  // Brings the process's mappings up to date with `as`, running the calls
  // in t's host thread, which must be waiting in the stub page. False
  // (logged) on failure: the process's view is then unknown.
  bool Sync(PtraceAddressSpace& as, Thread& t);
  // Refuses stub-page mmap/munmap calls waiting for an answer outside a
  // sync (app code that jumped there); they would wait for the next sync.
  // Called by threads that wait a while for their thread's report.
  void RefuseStrayCalls();
  // The next Sync starts from a clean slate (Context::ResetAddressSpace).
  void ResetSync();

  pid_t pid() const { return stub_->pid(); }
  // The process has exited (killed from outside, or by Kill()).
  bool Exited() const { return stub_->Exited(); }
  // Sends SIGKILL (from any thread); the destructor reaps it.
  void Kill() const { stub_->SendKill(); }
  const SystrapStubVariant& variant() const { return variant_; }

  // The signals a stub thread takes through its handler, and the mask it
  // runs app code with (every other signal blocked).
  static uint64_t StubSignalMask();

 private:
  SystrapProcess(std::unique_ptr<StubProcess> stub, SharedRegions regions,
                 SystrapStubVariant variant, uint64_t min_addr, uint64_t max_addr);
  absl::Status SetUp(const std::vector<sock_filter>& filter);
  int AllocSlotLocked();
  bool RunMemOps(const std::vector<MemOp>& ops, Thread& t);

  const std::unique_ptr<StubProcess> stub_;  // the spawner (slot 0)
  SharedRegions regions_;
  const SystrapStubVariant variant_;
  MemOpListener listener_;  // the stub filter's user notifications

  std::mutex spawn_mu_;  // one SPAWN at a time; guards the slot lists and first_
  std::optional<Thread> first_;  // made by Create(), handed out by the first SpawnThread()
  int next_slot_ = 1;
  std::vector<int> free_;      // exited threads' slots
  std::vector<int> retiring_;  // told to exit, maybe not gone yet

  std::mutex sync_mu_;
  MappingSync sync_;  // guarded by sync_mu_
  // What sync_ last brought the process up to (id, generation), for a
  // lock-free "nothing to do" on every Switch; written under sync_mu_.
  std::atomic<uint64_t> synced_id_{0}, synced_gen_{0};
};

// The AddressSpace of the systrap platform: the ptrace platform's mapping
// log, plus the stub process its threads run in.
class SystrapAddressSpace final : public PtraceAddressSpace {
 public:
  using Maker = std::function<absl::StatusOr<std::shared_ptr<SystrapProcess>>()>;
  using PtraceAddressSpace::PtraceAddressSpace;
  // The process, made with `make` for the first thread that runs here.
  absl::StatusOr<std::shared_ptr<SystrapProcess>> Process(const Maker& make);

 private:
  std::mutex process_mu_;
  std::shared_ptr<SystrapProcess> process_;  // guarded by process_mu_
};

}  // namespace palisade::platform
