// The x86-64 signal frame the kernel pushes for a handler (rt_sigframe),
// laid out exactly as Linux does so glibc and apps that read
// ucontext_t->uc_mcontext see what they expect.
#pragma once

#include <signal.h>

#include <cstdint>

#include "sentry/kernel/signal_types.h"

namespace palisade {

struct SigContext {  // struct sigcontext, 256 bytes
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;  // address of the 512-byte FXSAVE area
  uint64_t reserved1[8];
};
static_assert(sizeof(SigContext) == 256);

struct UContext {
  uint64_t flags;
  uint64_t link;
  KernelStack stack;
  SigContext mcontext;
  uint64_t sigmask;
};
static_assert(sizeof(UContext) == 304);

struct RtSigframe {
  uint64_t pretcode;  // the restorer: `ret` from the handler lands there
  UContext uc;
  siginfo_t info;
};
static_assert(sizeof(RtSigframe) == 440);

inline constexpr uint64_t kUcSigcontextSs = 2;
// EFLAGS bits a sigreturn may change (AC OF DF TF SF ZF AF PF CF RF).
inline constexpr uint64_t kFixEflags = 0x40DD5;

}  // namespace palisade
