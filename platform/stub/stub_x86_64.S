// The stub code: the only code the sentry puts into a ptrace stub process.
// PtracePlatform copies the bytes between palisade_stub_begin and
// palisade_stub_end into one read+exec page at a fixed address above the
// application range; a freshly forked stub jumps to unmap_all, and the
// tracer later points rip at `syscall_insn` to run one host syscall inside
// the stub (syscall injection).
//
// SAFETY: this code runs with no stack, no libc and (after unmap_all) no
// other mapping than its own page. It must stay position independent (it
// runs from a copy): only rip-relative references to local labels, plus
// the fixed addresses of the systrap control page and regions (systrap_abi.h).
//
// The systrap platform uses the same page: its stubs also run unmap_all
// and injected syscalls while being set up, and then live in
// systrap_handler / systrap_wait (below) for good.

#include "platform/stub/systrap_abi.h"

  .text
  .globl palisade_stub_begin
  .globl palisade_stub_unmap_all
  .globl palisade_stub_unmap_all_done
  .globl palisade_stub_syscall
  .globl palisade_stub_syscall_done
  .globl palisade_stub_systrap_handler_arch
  .globl palisade_stub_systrap_wait_arch
  .globl palisade_stub_systrap_handler_fsgs
  .globl palisade_stub_systrap_wait_fsgs
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

// systrap_handler: the SA_SIGINFO handler of every signal a systrap stub
// thread takes (SIGSYS from the seccomp filter, faults, the sentry's
// kick). The kernel entered it on the signal stack inside the thread's
// region, with every signal blocked and rsp pointing at the frame
// (pretcode, ucontext, siginfo); the region is the 64 KiB-aligned block
// holding rsp. It reports the frame to the sentry and falls into
// systrap_wait; the sentry edits the frame in place (the app's registers
// and the syscall result) and the stub returns into the app through
// rt_sigreturn.
//
// systrap_wait (rbx = the thread's region): waits for a command (brief
// spin, then FUTEX_WAIT): RUN installs the fs/gs bases the sentry asked
// for and rt_sigreturns through the frame at FRAME_RSP; SPAWN (the
// spawner only) clones a thread whose region is at SPAWN_REGION and
// reports clone's result; MEMOPS runs the mapping sync and reports; EXIT
// ends the thread. A new thread starts here,
// and its first RUN goes through a frame the sentry built (which also
// sets its signal stack and mask).
//
// fs_base/gs_base are not in a signal frame. Two variants of the pair:
// _fsgs reads and writes them with rdfsbase/wrfsbase (no syscall; used when
// the host enables FSGSBASE for user space, AT_HWCAP2), _arch with
// arch_prctl. Syscalls made here: futex, rt_sigreturn, clone (the thread
// flags only), exit (and arch_prctl in _arch), which the stub filter lets
// this page make, and mmap/munmap, which it lets the sentry decide on
// (SECCOMP_RET_USER_NOTIF).
.macro SYSTRAP_ROUTINES suffix, fsgs
palisade_stub_systrap_handler\suffix:
  mov %rsp, %rbx
  and $-PALISADE_SYSTRAP_SHARED_SIZE, %rbx
  mov %rsp, PALISADE_SYSTRAP_FRAME_RSP(%rbx)
.if \fsgs
  rdfsbase %rax
  mov %rax, PALISADE_SYSTRAP_CUR_FS(%rbx)
  rdgsbase %rax
  mov %rax, PALISADE_SYSTRAP_CUR_GS(%rbx)
.else
  mov $158, %eax                       // arch_prctl(ARCH_GET_FS, &cur_fs)
  mov $0x1003, %edi
  lea PALISADE_SYSTRAP_CUR_FS(%rbx), %rsi
  syscall
  mov $158, %eax                       // arch_prctl(ARCH_GET_GS, &cur_gs)
  mov $0x1004, %edi
  lea PALISADE_SYSTRAP_CUR_GS(%rbx), %rsi
  syscall
.endif
.Lreport\suffix:
  movl $PALISADE_SYSTRAP_STATE_EVENT, PALISADE_SYSTRAP_STATE(%rbx)
  mfence                               // store state before loading the flag
  cmpl $0, PALISADE_SYSTRAP_SENTRY_SLEEPING(%rbx)
  je palisade_stub_systrap_wait\suffix
  mov $202, %eax                       // futex(&state, FUTEX_WAKE, 1)
  lea PALISADE_SYSTRAP_STATE(%rbx), %rdi
  mov $1, %esi
  mov $1, %edx
  syscall

palisade_stub_systrap_wait\suffix:
  mov $PALISADE_SYSTRAP_STUB_SPIN, %ecx
.Lspin\suffix:
  mov PALISADE_SYSTRAP_STATE(%rbx), %edx
  cmp $PALISADE_SYSTRAP_STATE_EVENT, %edx   // IDLE or EVENT: nothing for us yet
  ja .Ldispatch\suffix
  pause
  dec %ecx
  jnz .Lspin\suffix
.Lsleep\suffix:
  movl $1, PALISADE_SYSTRAP_STUB_SLEEPING(%rbx)
  mfence                               // store the flag before loading state
  mov PALISADE_SYSTRAP_STATE(%rbx), %edx
  cmp $PALISADE_SYSTRAP_STATE_EVENT, %edx
  ja .Ldispatch\suffix
.Lfutex_wait\suffix:
  mov $202, %eax                       // futex(&state, FUTEX_WAIT, edx, NULL)
  lea PALISADE_SYSTRAP_STATE(%rbx), %rdi
  xor %esi, %esi
  xor %r10d, %r10d
  syscall
  jmp .Lsleep\suffix                  // woken, EINTR or EAGAIN: look again
.Ldispatch\suffix:
  cmp $PALISADE_SYSTRAP_STATE_RUN, %edx
  je .Lrun\suffix
  cmp $PALISADE_SYSTRAP_STATE_SPAWN, %edx
  je .Lspawn\suffix
  cmp $PALISADE_SYSTRAP_STATE_EXIT, %edx
  je .Lexit\suffix
  cmp $PALISADE_SYSTRAP_STATE_MEMOPS, %edx
  je .Lmemops\suffix
  // Not a command (an app thread wrote the word): sleep until it changes.
  movl $1, PALISADE_SYSTRAP_STUB_SLEEPING(%rbx)
  mfence
  jmp .Lfutex_wait\suffix
.Lmemops\suffix:
  // The mapping sync: the mmap/munmap calls listed in the control page's
  // table (systrap_abi.h), each result stored in this region's scratch.
  // Each call goes to the sentry first (SECCOMP_RET_USER_NOTIF), which
  // lets it run only if it is the next call it expects from this very
  // thread; then a munmap(0, 0) marker tells the sentry that every call
  // before it has completed, and the thread reports.
  movl $0, PALISADE_SYSTRAP_STUB_SLEEPING(%rbx)
  movabs $PALISADE_SYSTRAP_CONTROL_ADDR, %r13
  mov (%r13), %r12                     // count
  add $8, %r13                         // first entry
  lea PALISADE_SYSTRAP_SCRATCH_OFF(%rbx), %r14
3:
  test %r12, %r12
  jz 4f
  mov 0(%r13), %rax
  mov 8(%r13), %rdi
  mov 16(%r13), %rsi
  mov 24(%r13), %rdx
  mov 32(%r13), %r10
  mov 40(%r13), %r8
  mov 48(%r13), %r9
  syscall
  mov %rax, (%r14)
  add $8, %r14
  add $PALISADE_SYSTRAP_MEMOPS_ENTRY, %r13
  dec %r12
  jmp 3b
4:
  mov $11, %eax                        // munmap(0, 0): the end marker
  xor %edi, %edi
  xor %esi, %esi
  syscall
  jmp .Lreport\suffix
.Lexit\suffix:
  mov $60, %eax                        // exit(0): this thread only
  xor %edi, %edi
  syscall
  ud2
.Lspawn\suffix:
  movl $0, PALISADE_SYSTRAP_STUB_SLEEPING(%rbx)
  // The new thread's region: a 64 KiB-aligned slot, never anything else
  // (the header is writable by app threads).
  mov PALISADE_SYSTRAP_SPAWN_REGION(%rbx), %r12
  mov $-22, %rax                       // -EINVAL
  test $(PALISADE_SYSTRAP_SHARED_SIZE - 1), %r12
  jnz .Lspawned\suffix
  movabs $PALISADE_SYSTRAP_SLOTS_ADDR + PALISADE_SYSTRAP_SHARED_SIZE, %rdx
  cmp %rdx, %r12
  jb .Lspawned\suffix
  movabs $PALISADE_SYSTRAP_SLOTS_END, %rdx
  cmp %rdx, %r12
  jae .Lspawned\suffix
  mov $56, %eax                        // clone(flags, stack, 0, &tid_word, 0)
  mov $PALISADE_SYSTRAP_CLONE_FLAGS, %edi
  lea PALISADE_SYSTRAP_SHARED_SIZE(%r12), %rsi  // never used: the child makes no call
  xor %edx, %edx
  lea PALISADE_SYSTRAP_TID_WORD(%r12), %r10
  xor %r8d, %r8d
  syscall
  test %rax, %rax
  jz .Lchild\suffix
.Lspawned\suffix:
  mov %rax, PALISADE_SYSTRAP_SPAWN_RESULT(%rbx)
  jmp .Lreport\suffix
.Lchild\suffix:
  mov %r12, %rbx
  jmp palisade_stub_systrap_wait\suffix
.Lrun\suffix:
  movl $0, PALISADE_SYSTRAP_STUB_SLEEPING(%rbx)
  mov PALISADE_SYSTRAP_WANT_FS(%rbx), %rsi
.if \fsgs
  // The sentry only asks for canonical user addresses (arch_prctl and
  // clone check them, as Linux does); a #GP here would kill only this stub.
  wrfsbase %rsi
  mov PALISADE_SYSTRAP_WANT_GS(%rbx), %rsi
  wrgsbase %rsi
.else
  cmp PALISADE_SYSTRAP_CUR_FS(%rbx), %rsi
  je 1f
  mov $158, %eax                       // arch_prctl(ARCH_SET_FS, want_fs)
  mov $0x1002, %edi
  syscall
1:
  mov PALISADE_SYSTRAP_WANT_GS(%rbx), %rsi
  cmp PALISADE_SYSTRAP_CUR_GS(%rbx), %rsi
  je 2f
  mov $158, %eax                       // arch_prctl(ARCH_SET_GS, want_gs)
  mov $0x1001, %edi
  syscall
2:
.endif
  mov PALISADE_SYSTRAP_FRAME_RSP(%rbx), %rsp
  add $8, %rsp                         // past pretcode, as the handler's `ret` would
  mov $15, %eax                        // rt_sigreturn
  syscall
  ud2                                  // a refused frame raises SIGSEGV instead
.endm

  SYSTRAP_ROUTINES _arch, 0
  SYSTRAP_ROUTINES _fsgs, 1

palisade_stub_end:

  .section .note.GNU-stack,"",@progbits
