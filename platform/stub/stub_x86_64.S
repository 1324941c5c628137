// The stub code: the only code the sentry puts into a ptrace stub process.
// PtracePlatform copies the bytes between palisade_stub_begin and
// palisade_stub_end into one read+exec page at a fixed address above the
// application range; a freshly forked stub jumps to unmap_all, and the
// tracer later points rip at `syscall_insn` to run one host syscall inside
// the stub (syscall injection).
//
// SAFETY: this code runs with no stack, no libc and (after unmap_all) no
// other mapping than its own page. It must stay position independent (it
// runs from a copy): only rip-relative references to local labels.

  .text
  .globl palisade_stub_begin
  .globl palisade_stub_unmap_all
  .globl palisade_stub_unmap_all_done
  .globl palisade_stub_syscall
  .globl palisade_stub_syscall_done
  .globl palisade_stub_end

palisade_stub_begin:
.Lbegin:

// unmap_all: removes every mapping except the stub page itself, then traps.
// The munmap results are left in r12, r13, r14 for the tracer to check.
palisade_stub_unmap_all:
  lea .Lbegin(%rip), %r15          // r15 = stub page (the copy starts it)
  // munmap(0, stub_page): everything below the stub page.
  mov $11, %eax
  xor %edi, %edi
  mov %r15, %rsi
  syscall
  mov %rax, %r12
  // munmap(stub_page + 4096, TASK_SIZE(4-level) - that): the rest of the
  // 47-bit range (vdso, stack, sentry heap and libraries).
  mov $11, %eax
  lea 4096(%r15), %rdi
  movabs $0x7ffffffff000, %rsi
  sub %rdi, %rsi
  syscall
  mov %rax, %r13
  // With 5-level paging, a 56-bit range can exist above; on 4-level hosts
  // this returns -EINVAL (start == TASK_SIZE), which the tracer accepts.
  mov $11, %eax
  movabs $0x7ffffffff000, %rdi
  movabs $0x00fffffffffff000 - 0x7ffffffff000, %rsi
  syscall
  mov %rax, %r14
  int3
palisade_stub_unmap_all_done:

// syscall_insn: the tracer sets rax and the argument registers, sets rip
// here and PTRACE_CONTs; the int3 stops the stub with the result in rax.
palisade_stub_syscall:
  syscall
  int3
palisade_stub_syscall_done:

palisade_stub_end:

  .section .note.GNU-stack,"",@progbits
