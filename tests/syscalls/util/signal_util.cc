#include "tests/syscalls/util/signal_util.h"

#include <setjmp.h>
#include <string.h>
#include <sys/time.h>

#include <string>

#include "tests/syscalls/util/file_util.h"

namespace palisade::testing {

ScopedSigaction::ScopedSigaction(int sig, void (*handler)(int), int flags) : sig_(sig) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, &old_) != 0) DieErrno("sigaction " + std::to_string(sig));
}

ScopedSigaction::ScopedSigaction(int sig, void (*action)(int, siginfo_t*, void*), int flags)
    : sig_(sig) {
  struct sigaction sa {};
  sa.sa_sigaction = action;
  sa.sa_flags = flags | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, &old_) != 0) DieErrno("sigaction " + std::to_string(sig));
}

ScopedSigaction::~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }

ScopedSignalMask::ScopedSignalMask(int how, std::initializer_list<int> sigs) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : sigs) sigaddset(&set, s);
  if (sigprocmask(how, &set, &old_) != 0) DieErrno("sigprocmask");
}

ScopedSignalMask::~ScopedSignalMask() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

namespace {
sigjmp_buf g_fault_jmp;
siginfo_t g_fault_info;

void FaultHandler(int sig, siginfo_t* info, void*) {
  g_fault_info = *info;
  siglongjmp(g_fault_jmp, sig);
}
}  // namespace

FaultResult TouchMemory(volatile char* addr, bool write) {
  FaultResult result;
  ScopedSigaction segv(SIGSEGV, FaultHandler, SA_NODEFER);
  ScopedSigaction bus(SIGBUS, FaultHandler, SA_NODEFER);
  memset(&g_fault_info, 0, sizeof(g_fault_info));
  // savemask=1: siglongjmp restores the mask, so nothing stays blocked.
  int sig = sigsetjmp(g_fault_jmp, 1);
  if (sig == 0) {
    if (write) {
      *addr = 42;
    } else {
      (void)*addr;
    }
    return result;
  }
  result.faulted = true;
  result.signo = sig;
  result.info = g_fault_info;
  return result;
}

void SetRealTimer(long initial_us, long interval_us) {
  struct itimerval it {};
  it.it_value.tv_sec = initial_us / 1000000;
  it.it_value.tv_usec = initial_us % 1000000;
  it.it_interval.tv_sec = interval_us / 1000000;
  it.it_interval.tv_usec = interval_us % 1000000;
  if (setitimer(ITIMER_REAL, &it, nullptr) != 0) DieErrno("setitimer");
}

}  // namespace palisade::testing
