// PageBitmap: one bit per page, for "which pages of this file-backed range
// hold file data" (Backing::populated) and "which pages of this VMA are
// mapped in the AddressSpace" (Vma::mapped). Faults populate whole 64 KiB
// chunks, but the bits stay per page so that splitting, merging, moving and
// growing VMAs, and MADV_DONTNEED on part of a chunk, never lose state
// (a chunk bit would have to be either wrong or re-read over private
// writes). Cost: 32 KiB of bits per GiB mapped. Not thread-safe.
//
//   PageBitmap b(16);
//   b.SetRange(2, 5, true);
//   b.ForEachRun(0, 16, true, [](uint64_t a, uint64_t e) { /* [2,5) */ });
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace palisade {

class PageBitmap {
 public:
  PageBitmap() = default;
  explicit PageBitmap(uint64_t n) : n_(n), w_((n + 63) / 64, 0) {}

  uint64_t size() const { return n_; }
  bool Get(uint64_t i) const { return (w_[i / 64] >> (i % 64)) & 1; }

  // REQUIRES: from <= to <= size().
  void SetRange(uint64_t from, uint64_t to, bool v) {
    for (uint64_t i = from; i < to;) {
      uint64_t bit = i % 64, n = std::min<uint64_t>(64 - bit, to - i);
      uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << bit;
      if (v) w_[i / 64] |= mask; else w_[i / 64] &= ~mask;
      i += n;
    }
  }

  // The first index in [from, to) whose bit is v, or to if none.
  uint64_t Find(uint64_t from, uint64_t to, bool v) const {
    uint64_t i = from;
    while (i < to) {
      uint64_t word = v ? w_[i / 64] : ~w_[i / 64];
      word >>= i % 64;
      if (word != 0) return std::min(to, i + std::countr_zero(word));
      i = (i / 64 + 1) * 64;  // nothing more in this word
    }
    return to;
  }

  bool All(uint64_t from, uint64_t to, bool v) const { return Find(from, to, !v) == to; }

  // Calls fn(a, b) for each maximal run [a, b) of bits equal to v inside
  // [from, to). fn may not change this bitmap.
  template <typename Fn>
  void ForEachRun(uint64_t from, uint64_t to, bool v, Fn fn) const {
    uint64_t a = Find(from, to, v);
    while (a < to) {
      uint64_t b = Find(a, to, !v);
      fn(a, b);
      a = Find(b, to, v);
    }
  }

  // Bits [from, to) as a new bitmap.
  PageBitmap Slice(uint64_t from, uint64_t to) const {
    PageBitmap out(to - from);
    ForEachRun(from, to, true, [&](uint64_t a, uint64_t b) { out.SetRange(a - from, b - from, true); });
    return out;
  }

  // Appends o's bits after ours (merging two adjacent VMAs).
  void Append(const PageBitmap& o) {
    uint64_t base = n_;
    Resize(n_ + o.n_);
    o.ForEachRun(0, o.n_, true, [&](uint64_t a, uint64_t b) { SetRange(base + a, base + b, true); });
  }

  // Grows (new bits clear) or shrinks to n bits.
  void Resize(uint64_t n) {
    if (n < n_ && n % 64 != 0) w_[n / 64] &= (1ull << (n % 64)) - 1;  // keep spare bits clear
    w_.resize((n + 63) / 64, 0);
    n_ = n;
  }

 private:
  uint64_t n_ = 0;
  std::vector<uint64_t> w_;
};

}  // namespace palisade
