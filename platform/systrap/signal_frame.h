// The x86-64 kernel signal frame as a systrap stub's handler finds it on
// its signal stack (arch/x86/include/asm/sigframe.h: struct rt_sigframe),
// and conversions between its sigcontext and platform::Registers. The
// sentry reads a frame to learn the app's registers at an event and edits
// it in place so that the stub's rt_sigreturn resumes the app as wanted.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>

#include "platform/platform.h"

namespace palisade::platform {

// The kernel's struct ucontext (not glibc's ucontext_t: its sigset is 128
// bytes and it carries more fields after it).
struct KernelUcontext {
  uint64_t uc_flags;
  uint64_t uc_link;
  stack_t uc_stack;
  struct sigcontext uc_mcontext;
  uint64_t uc_sigmask;  // the kernel's 64-bit sigset_t
};
static_assert(offsetof(KernelUcontext, uc_mcontext) == 40);
static_assert(sizeof(struct sigcontext) == 256);

struct KernelSigframe {
  uint64_t pretcode;  // the handler's return address; rsp points here on entry
  KernelUcontext uc;
  siginfo_t info;
};

// uc_flags bits (arch/x86/include/uapi/asm/ucontext.h).
inline constexpr uint64_t kUcFpXstate = 0x1;
inline constexpr uint64_t kUcSigcontextSs = 0x2;
inline constexpr uint64_t kUcStrictRestoreSs = 0x4;

// Registers <-> sigcontext. fs_base/gs_base are not in a sigcontext (the
// stub passes them in the shared header); ds/es are 0 in 64-bit mode.
void RegistersFromSigcontext(const struct sigcontext& sc, Registers& regs);
void RegistersToSigcontext(const Registers& regs, struct sigcontext& sc);

}  // namespace palisade::platform
