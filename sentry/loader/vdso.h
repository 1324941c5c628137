// Vdso: the sentry's vDSO (vdso/vdso.c, built at build time and embedded)
// and the time data page it reads, shared by every process of a kernel.
// Each exec maps [vvar][vdso] (MapInto) and passes the vDSO's address as
// AT_SYSINFO_EHDR, so glibc's clock_gettime, gettimeofday, time and getcpu
// run in the application without a syscall, which would trap to the
// sentry (a round trip of microseconds instead of tens of nanoseconds).
//
// Time: the page holds TSC-based parameters (vdso_data.h). A sentry thread
// re-reads the host's clocks every kUpdatePeriod and adjusts them: the
// rate is measured against CLOCK_MONOTONIC since start, and any error is
// slewed away over the next period rather than stepped backwards, so
// CLOCK_MONOTONIC read through the vDSO never goes back. Without an
// invariant TSC the page says "disabled" and the vDSO makes real
// (trapped) syscalls instead.
//
//   PAL_TRY(uint64_t vdso_addr, kernel.vdso().MapInto(mm));
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "base/errno.h"
#include "sentry/loader/vdso/vdso_data.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"

namespace palisade::loader {

// The embedded vDSO ELF image.
std::span<const uint8_t> VdsoImage();

class Vdso {
 public:
  static constexpr int64_t kUpdatePeriodNs = 100'000'000;

  // Allocates and fills the pages, calibrates the TSC, starts the updater.
  static ErrnoOr<std::unique_ptr<Vdso>> Create(MemoryFile& mf);
  ~Vdso();  // stops the updater
  Vdso(const Vdso&) = delete;
  Vdso& operator=(const Vdso&) = delete;

  // Maps [vvar] (read-only) and [vdso] (read+exec) into mm; returns the
  // vDSO image's address (AT_SYSINFO_EHDR).
  ErrnoOr<uint64_t> MapInto(MemoryManager& mm);

  // The sentry's view of the data page (tests).
  const palisade_vdso_data& data() const { return *data_; }
  // Clock clk as the vDSO computes it from the data page, or -1 when the
  // vDSO does not serve it (no usable TSC, or a clock it leaves to the
  // syscall). The sentry's own time syscalls read this, so an app sees one
  // clock whether glibc went through the vDSO or trapped (the page's clock
  // may be slewing towards the host's by a few ms; time() through the
  // vDSO must never be ahead of time(2)).
  int64_t ReadClockNs(int clk) const;
  // One update step now (the thread calls it every kUpdatePeriodNs).
  void Update();

 private:
  explicit Vdso(std::shared_ptr<mm::Backing> backing);
  void Calibrate();
  void Run();

  std::shared_ptr<mm::Backing> backing_;  // [vvar page][image pages]
  uint64_t image_len_ = 0;
  palisade_vdso_data* data_ = nullptr;

  // Rate reference: host CLOCK_MONOTONIC and TSC at start.
  int64_t ref_mono_ = 0;
  uint64_t ref_tsc_ = 0;
  long double ns_per_tick_ = 0;  // current estimate

  std::mutex mu_;  // Update() vs the thread
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace palisade::loader
