// Tiny libc-free x86-64 programs that the platform tests copy into a
// MemoryFile page and run as "the application". Each is position
// independent; the tests find them by their labels' offsets from
// test_programs_begin. Registers in comments are the inputs the test sets.
//
// SAFETY: these never run in the test process itself, only inside stubs.

  .text
  .globl test_programs_begin, test_programs_end
  .globl prog_roundtrip, prog_load, prog_store_then_load, prog_spin_count
  .globl prog_int3, prog_ud2, prog_div0, prog_hlt, prog_jump, prog_fp
  .globl prog_getpid_loop, prog_vsyscall, prog_jump_r15, prog_fs_gs, prog_forge_memops

test_programs_begin:

// getpid(); then exit(what getpid "returned"), passed through the stack.
prog_roundtrip:
  mov $39, %eax
  syscall
  push %rax
  pop %rdi
  mov $60, %eax
  syscall
  ud2

// exit(*(uint64_t*)rdx)
prog_load:
  mov (%rdx), %rdi
  mov $60, %eax
  syscall
  ud2

// rdi = *(uint64_t*)%fs:0, rsi = *(uint64_t*)%gs:8; getpid(); the same
// again into r8/r9; exit(0).
prog_fs_gs:
  mov %fs:0, %rdi
  mov %gs:8, %rsi
  mov $39, %eax
  syscall
  mov %fs:0, %r8
  mov %gs:8, %r9
  mov $60, %eax
  xor %edi, %edi
  syscall
  ud2

// *(uint64_t*)rdx = rsi; getpid(); exit(*(uint64_t*)rdx)
prog_store_then_load:
  mov %rsi, (%rdx)
  mov $39, %eax
  syscall
  mov (%rdx), %rdi
  mov $60, %eax
  syscall
  ud2

// for (;;) ++*(uint64_t*)rdx;  (the test watches the count grow)
prog_spin_count:
  incq (%rdx)
  jmp prog_spin_count

prog_int3:
  int3
  ud2

prog_ud2:
  ud2

// rdx:rax / 0
prog_div0:
  xor %ecx, %ecx
  div %rcx
  ud2

// Privileged: #GP, which Linux reports as SIGSEGV with SI_KERNEL.
prog_hlt:
  hlt
  ud2

// Jumps to rdx.
prog_jump:
  jmp *%rdx

// xmm1 = rdi; exit(xmm0's low quadword)
prog_fp:
  movq %rdi, %xmm1
  movq %xmm0, %rdi
  mov $60, %eax
  syscall
  ud2

// for (;;) getpid();   (benchmark)
prog_getpid_loop:
  mov $39, %eax
  syscall
  jmp prog_getpid_loop

// gettimeofday(NULL, NULL) through the host's vsyscall page, then
// exit(its result). The kernel emulates vsyscalls without a ptrace stop.
prog_vsyscall:
  xor %edi, %edi
  xor %esi, %esi
  movabs $0xffffffffff600000, %rax
  call *%rax
  mov %rax, %rdi
  mov $60, %eax
  syscall
  ud2

// Jumps to r15, every other register as the test set it (to run foreign
// code, e.g. the stub page's, with chosen syscall arguments).
prog_jump_r15:
  jmp *%r15

// Writes a one-entry mapping-sync table at rdx asking for mmap(rsi, 4096,
// RW, MAP_SHARED|MAP_FIXED, fd 100, 0), then jumps to r15.
prog_forge_memops:
  movq $1, (%rdx)
  movq $9, 8(%rdx)
  mov %rsi, 16(%rdx)
  movq $4096, 24(%rdx)
  movq $3, 32(%rdx)
  movq $0x11, 40(%rdx)
  movq $100, 48(%rdx)
  movq $0, 56(%rdx)
  movq $0, 64(%rdx)
  jmp *%r15

test_programs_end:

  .section .note.GNU-stack,"",@progbits
