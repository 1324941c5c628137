// Signal sets and the kernel ABI structs for signals (x86-64), which
// differ from glibc's user-space ones (glibc's sigset_t is 128 bytes; the
// kernel's is 8).
#pragma once

#include <signal.h>

#include <cstdint>

namespace palisade {

inline constexpr int kNumSignals = 64;

// Bit (sig-1) set means signal sig is in the set.
struct SigSet {
  uint64_t bits = 0;
  static constexpr uint64_t Bit(int sig) { return 1ull << (sig - 1); }
  bool Has(int sig) const { return bits & Bit(sig); }
  void Add(int sig) { bits |= Bit(sig); }
  void Remove(int sig) { bits &= ~Bit(sig); }
  bool operator==(const SigSet&) const = default;
};

// SIGKILL and SIGSTOP can never be blocked or caught.
inline constexpr uint64_t kUnblockableSignals = SigSet::Bit(SIGKILL) | SigSet::Bit(SIGSTOP);

// struct sigaction as rt_sigaction(2) passes it on x86-64.
struct KernelSigaction {
  uint64_t handler = 0;  // SIG_DFL=0, SIG_IGN=1, or an address
  uint64_t flags = 0;    // SA_*
  uint64_t restorer = 0;
  uint64_t mask = 0;
};

// stack_t for sigaltstack(2).
struct KernelStack {
  uint64_t sp = 0;
  int32_t flags = 0;
  int32_t pad = 0;
  uint64_t size = 0;
};

}  // namespace palisade
