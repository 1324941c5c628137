#include "platform/systrap/signal_frame.h"

namespace palisade::platform {

void RegistersFromSigcontext(const struct sigcontext& sc, Registers& r) {
  r.r8 = sc.r8;
  r.r9 = sc.r9;
  r.r10 = sc.r10;
  r.r11 = sc.r11;
  r.r12 = sc.r12;
  r.r13 = sc.r13;
  r.r14 = sc.r14;
  r.r15 = sc.r15;
  r.rdi = sc.rdi;
  r.rsi = sc.rsi;
  r.rbp = sc.rbp;
  r.rbx = sc.rbx;
  r.rdx = sc.rdx;
  r.rax = sc.rax;
  r.rcx = sc.rcx;
  r.rsp = sc.rsp;
  r.rip = sc.rip;
  r.eflags = sc.eflags;
  r.cs = sc.cs;
  r.ss = sc.__pad0;  // the kernel's sigcontext calls it ss (UC_SIGCONTEXT_SS)
  r.fs = sc.fs;
  r.gs = sc.gs;
  r.ds = 0;
  r.es = 0;
  r.orig_rax = ~uint64_t{0};
}

void RegistersToSigcontext(const Registers& r, struct sigcontext& sc) {
  sc.r8 = r.r8;
  sc.r9 = r.r9;
  sc.r10 = r.r10;
  sc.r11 = r.r11;
  sc.r12 = r.r12;
  sc.r13 = r.r13;
  sc.r14 = r.r14;
  sc.r15 = r.r15;
  sc.rdi = r.rdi;
  sc.rsi = r.rsi;
  sc.rbp = r.rbp;
  sc.rbx = r.rbx;
  sc.rdx = r.rdx;
  sc.rax = r.rax;
  sc.rcx = r.rcx;
  sc.rsp = r.rsp;
  sc.rip = r.rip;
  sc.eflags = r.eflags;
  sc.cs = static_cast<unsigned short>(r.cs);
  sc.__pad0 = static_cast<unsigned short>(r.ss);
  // fs/gs selectors are not restored by rt_sigreturn on x86-64.
}

}  // namespace palisade::platform
