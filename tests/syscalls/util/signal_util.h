// Signal helpers: scoped dispositions and masks, and catching a fault.
//
//   ScopedSigaction act(SIGUSR1, Handler);          // restored at scope end
//   ScopedSignalMask block(SIG_BLOCK, {SIGUSR1});   // restored at scope end
//
//   FaultResult r = TouchMemory(p, /*write=*/true); // SIGSEGV/SIGBUS caught
//   EXPECT_TRUE(r.faulted);
//   EXPECT_EQ(r.info.si_addr, p);
//
// TouchMemory installs SIGSEGV and SIGBUS handlers that siglongjmp back, so
// a test can check a fault's si_addr and si_code and keep running.
#ifndef PALISADE_TESTS_SYSCALLS_UTIL_SIGNAL_UTIL_H_
#define PALISADE_TESTS_SYSCALLS_UTIL_SIGNAL_UTIL_H_

#include <signal.h>

#include <initializer_list>

namespace palisade::testing {

class ScopedSigaction {
 public:
  // Installs `handler` (or SIG_IGN/SIG_DFL) with sa_flags `flags`; dies if
  // sigaction fails.
  ScopedSigaction(int sig, void (*handler)(int), int flags = 0);
  ScopedSigaction(int sig, void (*action)(int, siginfo_t*, void*), int flags);
  ScopedSigaction(const ScopedSigaction&) = delete;
  ScopedSigaction& operator=(const ScopedSigaction&) = delete;
  ~ScopedSigaction();

 private:
  int sig_;
  struct sigaction old_;
};

class ScopedSignalMask {
 public:
  // sigprocmask(how, {sigs}); the old mask is restored at scope end.
  ScopedSignalMask(int how, std::initializer_list<int> sigs);
  ScopedSignalMask(const ScopedSignalMask&) = delete;
  ScopedSignalMask& operator=(const ScopedSignalMask&) = delete;
  ~ScopedSignalMask();

 private:
  sigset_t old_;
};

struct FaultResult {
  bool faulted = false;
  int signo = 0;
  siginfo_t info{};
};

// Reads (or writes) one byte at `addr`. Reports whether that raised SIGSEGV
// or SIGBUS, and its siginfo. The caller's handlers are restored afterwards.
FaultResult TouchMemory(volatile char* addr, bool write);

// Sets a one-shot or periodic ITIMER_REAL (microseconds; 0 disarms).
void SetRealTimer(long initial_us, long interval_us);

}  // namespace palisade::testing

#endif  // PALISADE_TESTS_SYSCALLS_UTIL_SIGNAL_UTIL_H_
