// Test doubles for sentry/mm: a recording platform::AddressSpace that keeps
// a model of what is mapped where (so tests can read memory "as the app
// sees it"), a Platform making them, and an in-memory MappableFile.
//
//   FakePlatform platform;
//   MemoryManager mm(*mf, platform);
//   auto& as = FakeAddressSpace::Of(mm);
//   as.TakeCalls();  // MapFile/Unmap calls since the last take
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "platform/platform.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/mm/memory_manager.h"

namespace palisade::testing {

class FakeAddressSpace : public platform::AddressSpace {
 public:
  struct Call {
    bool map;  // MapFile (else Unmap)
    uint64_t addr, len, off;
    int prot;
    bool operator==(const Call&) const = default;
  };
  struct Seg {
    uint64_t end, off;
    int prot;
  };

  static FakeAddressSpace& Of(MemoryManager& mm) {
    return static_cast<FakeAddressSpace&>(mm.address_space());
  }

  Errno MapFile(uint64_t addr, uint64_t len, uint64_t off, int prot) override {
    std::lock_guard<std::mutex> g(mu_);
    if ((addr | len | off) % 4096 != 0 || len == 0) misaligned = true;
    calls_.push_back({true, addr, len, off, prot});
    if (fail_maps) return Errno(ENOMEM);
    Cut(addr, addr + len);
    segs_[addr] = {addr + len, off, prot};
    return Errno::Ok();
  }

  void Unmap(uint64_t addr, uint64_t len) override {
    std::lock_guard<std::mutex> g(mu_);
    if ((addr | len) % 4096 != 0) misaligned = true;
    calls_.push_back({false, addr, len, 0, 0});
    Cut(addr, addr + len);
  }

  // The MemoryFile offset and protection mapped at addr, if any.
  std::optional<Seg> Lookup(uint64_t addr) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = segs_.upper_bound(addr);
    if (it == segs_.begin()) return std::nullopt;
    --it;
    if (addr >= it->second.end) return std::nullopt;
    return Seg{it->second.end, it->second.off + (addr - it->first), it->second.prot};
  }

  std::vector<Call> TakeCalls() {
    std::lock_guard<std::mutex> g(mu_);
    return std::exchange(calls_, {});
  }

  bool fail_maps = false;   // MapFile records the call, then fails
  bool misaligned = false;  // set if any call broke the alignment contract

 private:
  // Removes [lo, hi) from the model, splitting segments at the edges.
  void Cut(uint64_t lo, uint64_t hi) {
    auto it = segs_.upper_bound(lo);
    if (it != segs_.begin()) --it;
    while (it != segs_.end() && it->first < hi) {
      uint64_t s = it->first;
      Seg seg = it->second;
      if (seg.end <= lo) {
        ++it;
        continue;
      }
      it = segs_.erase(it);
      if (s < lo) segs_[s] = {lo, seg.off, seg.prot};
      if (seg.end > hi) segs_[hi] = {seg.end, seg.off + (hi - s), seg.prot};
    }
  }

  std::mutex mu_;
  std::vector<Call> calls_;
  std::map<uint64_t, Seg> segs_;
};

class FakePlatform : public platform::Platform {
 public:
  explicit FakePlatform(uint64_t min = 0x10000, uint64_t max = 0x7ffffffff000)
      : min_(min), max_(max) {}
  std::unique_ptr<platform::AddressSpace> NewAddressSpace() override {
    ++address_spaces;
    return std::make_unique<FakeAddressSpace>();
  }
  absl::StatusOr<std::unique_ptr<platform::Context>> NewContext() override {
    return absl::UnimplementedError("FakePlatform runs no code");
  }
  uint64_t MinUserAddress() const override { return min_; }
  uint64_t MaxUserAddress() const override { return max_; }
  int address_spaces = 0;

 private:
  uint64_t min_, max_;
};

// A file held in memory. Counts reads so tests can see chunked population.
class FakeFile : public MappableFile {
 public:
  explicit FakeFile(std::vector<uint8_t> data, bool writable = false, std::string name = "/fake")
      : data(std::move(data)), writable(writable), name(std::move(name)) {}
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) override {
    std::lock_guard<std::mutex> g(mu);
    ++reads;
    if (fail_reads) return Errno(EIO);
    if (off >= static_cast<int64_t>(data.size())) return int64_t{0};
    size_t n = std::min(dst.size(), data.size() - static_cast<size_t>(off));
    std::memcpy(dst.data(), data.data() + off, n);
    return static_cast<int64_t>(n);
  }
  ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off) override {
    std::lock_guard<std::mutex> g(mu);
    if (!writable) return Errno(EACCES);
    ++writes;
    if (data.size() < off + src.size()) data.resize(off + src.size());
    std::memcpy(data.data() + off, src.data(), src.size());
    return static_cast<int64_t>(src.size());
  }
  int64_t Size() override {
    std::lock_guard<std::mutex> g(mu);
    return static_cast<int64_t>(data.size());
  }
  std::string Name() const override { return name; }
  uint64_t Dev() const override { return (8 << 8) | 2; }  // 08:02
  uint64_t Ino() const override { return 173521; }

  std::mutex mu;
  std::vector<uint8_t> data;
  bool writable;
  std::string name;
  int reads = 0, writes = 0;
  bool fail_reads = false;
};

// Bytes 0, 1, 2, ... (mod 251, so pages differ) for file contents.
inline std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i % 251);
  return v;
}

}  // namespace palisade::testing
