#include "sentry/loader/vdso.h"

#include <cpuid.h>
#include <sys/mman.h>
#include <time.h>
#include <x86intrin.h>

#include <climits>
#include <cstring>

#include "sentry/mm/vma.h"
#include "spdlog/spdlog.h"

extern "C" {
extern const uint8_t palisade_vdso_image_begin[];  // vdso_blob.S
extern const uint8_t palisade_vdso_image_end[];
}

namespace palisade::loader {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kShift = 32;
// Clocks the vDSO serves: REALTIME, MONOTONIC, MONOTONIC_RAW,
// REALTIME_COARSE, MONOTONIC_COARSE, BOOTTIME. (The coarse ones are served
// precisely, which Linux allows: they only promise to be cheap.)
constexpr uint32_t kClockMask = (1u << CLOCK_REALTIME) | (1u << CLOCK_MONOTONIC) |
                                (1u << CLOCK_MONOTONIC_RAW) | (1u << CLOCK_REALTIME_COARSE) |
                                (1u << CLOCK_MONOTONIC_COARSE) | (1u << CLOCK_BOOTTIME);
// An error larger than this with the vDSO behind the host is stepped
// forward at once rather than slewed.
constexpr int64_t kMaxSlewNs = 1'000'000;

int64_t HostNs(clockid_t c) {
  timespec ts;
  clock_gettime(c, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

uint64_t Rdtsc() {
  _mm_lfence();
  return __rdtsc();
}

// CPUID.80000007H:EDX[8]: the TSC ticks at a constant rate in every
// P-/C-state, which is what makes it a clock.
bool InvariantTsc() {
  unsigned a, b, c, d;
  return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
}

// The host's clocks at one TSC reading (the monotonic one bracketed).
struct Sample {
  uint64_t tsc;
  int64_t mono, real, boot, raw;
};
Sample TakeOneSample(int64_t& spread) {
  Sample s;
  const int64_t m0 = HostNs(CLOCK_MONOTONIC);
  s.tsc = Rdtsc();
  const int64_t m1 = HostNs(CLOCK_MONOTONIC);
  s.mono = m0 + (m1 - m0) / 2;
  s.real = HostNs(CLOCK_REALTIME) - (m1 - s.mono);
  s.boot = HostNs(CLOCK_BOOTTIME) - (m1 - s.mono);
  s.raw = HostNs(CLOCK_MONOTONIC_RAW) - (m1 - s.mono);
  spread = HostNs(CLOCK_MONOTONIC) - m0;
  return s;
}
// The tightest of a few samples: on a loaded host the thread can be
// preempted between the reads, which would put the TSC reading
// milliseconds away from the clock values it is paired with.
Sample TakeSample() {
  int64_t best_spread = INT64_MAX;
  Sample best{};
  for (int i = 0; i < 20 && best_spread > 20'000; ++i) {
    int64_t spread;
    Sample s = TakeOneSample(spread);
    if (spread < best_spread) {
      best_spread = spread;
      best = s;
    }
  }
  return best;
}

std::atomic_ref<uint32_t> Seq(palisade_vdso_data* d) { return std::atomic_ref<uint32_t>(d->seq); }

}  // namespace

std::span<const uint8_t> VdsoImage() {
  return {palisade_vdso_image_begin,
          static_cast<size_t>(palisade_vdso_image_end - palisade_vdso_image_begin)};
}

Vdso::Vdso(std::shared_ptr<mm::Backing> backing) : backing_(std::move(backing)) {}

ErrnoOr<std::unique_ptr<Vdso>> Vdso::Create(MemoryFile& mf) {
  const std::span<const uint8_t> image = VdsoImage();
  const uint64_t image_len = (image.size() + kPage - 1) / kPage * kPage;
  PAL_TRY(std::shared_ptr<mm::Backing> b, MemoryManager::AllocateSpecial(mf, kPage + image_len));
  std::unique_ptr<Vdso> v(new Vdso(std::move(b)));
  v->image_len_ = image_len;
  std::memcpy(v->backing_->Pointer(kPage), image.data(), image.size());
  v->data_ = reinterpret_cast<palisade_vdso_data*>(v->backing_->Pointer(0));
  static_assert(sizeof(palisade_vdso_data) <= kPage);
  v->Calibrate();
  if (v->data_->enabled) v->thread_ = std::thread([p = v.get()] { p->Run(); });
  return v;
}

Vdso::~Vdso() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ErrnoOr<uint64_t> Vdso::MapInto(MemoryManager& mm) {
  PAL_TRY(uint64_t addr,
          mm.MapSpecial(backing_, {{.len = kPage, .prot = PROT_READ, .max_prot = PROT_READ,
                                    .name = "[vvar]"},
                                   {.len = image_len_,
                                    .prot = PROT_READ | PROT_EXEC,
                                    .max_prot = PROT_READ | PROT_EXEC,
                                    .name = "[vdso]"}}));
  return addr + kPage;
}

void Vdso::Calibrate() {
  if (!InvariantTsc()) {
    spdlog::info("vdso: no invariant TSC; clock_gettime and friends will trap to the sentry");
    data_->enabled = 0;
    return;
  }
  // A first rate over ~2 ms (slept, not spun; every sandbox start waits
  // for it): ~50 ppm at worst, which Update() corrects, refining the rate
  // against this start point as time goes on.
  const Sample a = TakeSample();
  const timespec pause{0, 2'000'000};
  nanosleep(&pause, nullptr);
  const Sample b = TakeSample();
  ref_mono_ = a.mono;
  ref_tsc_ = a.tsc;
  ns_per_tick_ = static_cast<long double>(b.mono - a.mono) / static_cast<long double>(b.tsc - a.tsc);
  Update();
}

int64_t Vdso::ReadClockNs(int clk) const {
  if (clk < 0 || clk >= PALISADE_VDSO_CLOCKS) return -1;
  palisade_vdso_data* d = data_;
  for (;;) {
    const uint32_t seq = Seq(d).load(std::memory_order_acquire);
    if (seq & 1) continue;
    const bool served = d->enabled && (d->clock_mask & (1u << clk));
    const uint64_t base_tsc = d->tsc_base, mult = d->mult;
    const uint32_t shift = d->shift;
    const int64_t base = d->base_ns[clk];
    const uint64_t now = Rdtsc();
    std::atomic_thread_fence(std::memory_order_acquire);
    if (Seq(d).load(std::memory_order_relaxed) != seq) continue;
    if (!served) return -1;
    const uint64_t delta = now > base_tsc ? now - base_tsc : 0;
    return base + static_cast<int64_t>((static_cast<unsigned __int128>(delta) * mult) >> shift);
  }
}

void Vdso::Update() {
  std::lock_guard<std::mutex> l(mu_);
  const Sample s = TakeSample();
  if (s.tsc > ref_tsc_ && s.mono - ref_mono_ > 50'000'000) {
    ns_per_tick_ = static_cast<long double>(s.mono - ref_mono_) /
                   static_cast<long double>(s.tsc - ref_tsc_);
  }
  palisade_vdso_data* d = data_;
  const uint32_t seq = Seq(d).load(std::memory_order_relaxed);
  Seq(d).store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Taken inside the write section: a reader that saw the old parameters
  // and succeeded read its TSC before this one, so continuity here keeps
  // the clock monotonic.
  const uint64_t tsc = Rdtsc();
  const int64_t host_mono =
      s.mono + static_cast<int64_t>(static_cast<long double>(tsc - s.tsc) * ns_per_tick_);
  int64_t base = host_mono;
  long double factor = 1;
  if (d->enabled) {
    const uint64_t delta = tsc > d->tsc_base ? tsc - d->tsc_base : 0;
    const int64_t old_now = d->base_ns[CLOCK_MONOTONIC] +
                            static_cast<int64_t>((static_cast<unsigned __int128>(delta) * d->mult) >> d->shift);
    const int64_t err = host_mono - old_now;
    if (err <= kMaxSlewNs) {
      // Stay continuous; run fast or slow until the next update to
      // absorb the error.
      base = old_now;
      // At most 10% either way: apps timing short intervals must not see
      // a clock running visibly fast or slow.
      factor = 1 + static_cast<long double>(err) / kUpdatePeriodNs;
      if (factor < 0.9) factor = 0.9;
      if (factor > 1.1) factor = 1.1;
    }
  }
  d->tsc_base = tsc;
  d->shift = kShift;
  d->mult = static_cast<uint64_t>(ns_per_tick_ * factor * static_cast<long double>(uint64_t{1} << kShift));
  d->base_ns[CLOCK_MONOTONIC] = base;
  d->base_ns[CLOCK_MONOTONIC_COARSE] = base;
  d->base_ns[CLOCK_MONOTONIC_RAW] = base + (s.raw - s.mono);
  d->base_ns[CLOCK_REALTIME] = base + (s.real - s.mono);
  d->base_ns[CLOCK_REALTIME_COARSE] = base + (s.real - s.mono);
  d->base_ns[CLOCK_BOOTTIME] = base + (s.boot - s.mono);
  d->clock_mask = kClockMask;
  d->enabled = 1;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  Seq(d).store(seq + 2, std::memory_order_release);
}

void Vdso::Run() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (cv_.wait_for(l, std::chrono::nanoseconds(kUpdatePeriodNs), [this] { return stop_; })) {
      return;
    }
    l.unlock();
    Update();
    l.lock();
  }
}

}  // namespace palisade::loader
