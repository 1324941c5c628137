/* The systrap stub ABI: where the shared memory sits in a stub process and
 * what a thread's region header holds. Included by the stub assembly
 * (stub_x86_64.S) and by the sentry (platform/systrap/), so plain #defines.
 *
 * One stub process per application address space; each application thread
 * is a host thread of it. One memfd per stub process, mapped above the
 * application range (which the sentry never lets the app map, mprotect or
 * unmap) and anywhere in the sentry:
 *
 *   CONTROL_ADDR   64 KiB, read-only in the stub: the mapping-sync table
 *                  (below). Read-only so that no application thread can
 *                  rewrite it while the sentry has another thread run it.
 *   SLOTS_ADDR     MAX_SLOTS regions of 64 KiB, read+write, one per host
 *                  thread (slot 0: the spawner, the process's first thread,
 *                  which never runs app code). A thread finds its region
 *                  from its stack pointer (the signal stack lies inside).
 *
 * A region:
 *   +0x0000  header (below): futex word, sleep flags, frame pointer, fs/gs
 *   +0x1000  signal stack: the kernel writes the SIGSYS/fault signal frame
 *            here (sigaltstack), the sentry reads and edits it in place
 *   +0x8000  the "fresh" frame a new thread starts from (sentry-built)
 *   +0xA000  its fxsave area (64-byte aligned)
 *   +0xC000  scratch: set-up (sigaction, sigaltstack, BPF program), then
 *            the results of the mapping-sync calls this thread ran
 *   +0x10000 end (the signal stack's top)
 */
#ifndef PALISADE_PLATFORM_STUB_SYSTRAP_ABI_H_
#define PALISADE_PLATFORM_STUB_SYSTRAP_ABI_H_

#define PALISADE_SYSTRAP_CONTROL_ADDR 0x7d0000010000
#define PALISADE_SYSTRAP_CONTROL_SIZE 0x10000
#define PALISADE_SYSTRAP_SLOTS_ADDR 0x7d0000020000
#define PALISADE_SYSTRAP_SHARED_SIZE 0x10000 /* one region */
#define PALISADE_SYSTRAP_MAX_SLOTS 1024
#define PALISADE_SYSTRAP_SLOTS_END \
  (PALISADE_SYSTRAP_SLOTS_ADDR + PALISADE_SYSTRAP_MAX_SLOTS * PALISADE_SYSTRAP_SHARED_SIZE)
/* A power-of-two aligned window holding the stub page, the control page
 * and every region: the filter's futex rule allows exactly this range. */
#define PALISADE_SYSTRAP_WINDOW_ADDR 0x7d0000000000
#define PALISADE_SYSTRAP_WINDOW_SIZE 0x8000000

/* Header field offsets. */
#define PALISADE_SYSTRAP_STATE 0            /* u32 futex word, values below */
#define PALISADE_SYSTRAP_STUB_SLEEPING 4    /* u32: stub is (about to be) in FUTEX_WAIT */
#define PALISADE_SYSTRAP_SENTRY_SLEEPING 8  /* u32: sentry is (about to be) in FUTEX_WAIT */
#define PALISADE_SYSTRAP_TID_WORD 12        /* u32: CLONE_CHILD_SETTID/CLEARTID word */
#define PALISADE_SYSTRAP_FRAME_RSP 16       /* u64: rsp at handler entry (-> pretcode) */
#define PALISADE_SYSTRAP_CUR_FS 24          /* u64: fs_base the stub has (read at event) */
#define PALISADE_SYSTRAP_CUR_GS 32          /* u64: gs_base the stub has */
#define PALISADE_SYSTRAP_WANT_FS 40         /* u64: fs_base the app gets on resume */
#define PALISADE_SYSTRAP_WANT_GS 48         /* u64: gs_base the app gets on resume */
#define PALISADE_SYSTRAP_SPAWN_REGION 56    /* u64: spawner: the new thread's region */
#define PALISADE_SYSTRAP_SPAWN_RESULT 64    /* u64: spawner: clone's result */

/* STATE values. */
#define PALISADE_SYSTRAP_STATE_IDLE 0   /* fresh stub, nothing to run yet */
#define PALISADE_SYSTRAP_STATE_EVENT 1  /* stub -> sentry: a signal frame (or spawn result) is ready */
#define PALISADE_SYSTRAP_STATE_RUN 2    /* sentry -> stub: sigreturn into the app */
#define PALISADE_SYSTRAP_STATE_SPAWN 3  /* sentry -> spawner: clone a thread into SPAWN_REGION */
#define PALISADE_SYSTRAP_STATE_EXIT 4   /* sentry -> stub: this thread exits */
#define PALISADE_SYSTRAP_STATE_MEMOPS 5 /* sentry -> stub: run the mapping-sync table, then report */

/* The flags of the spawner's clone, the only clone the filter allows. */
#define PALISADE_SYSTRAP_CLONE_FLAGS 0x01250f00
/* = CLONE_VM 0x100 | CLONE_FS 0x200 | CLONE_FILES 0x400 | CLONE_SIGHAND 0x800
 *   | CLONE_THREAD 0x10000 | CLONE_SYSVSEM 0x40000
 *   | CLONE_CHILD_CLEARTID 0x200000 | CLONE_CHILD_SETTID 0x1000000 */

/* Layout of a region. */
#define PALISADE_SYSTRAP_ALTSTACK_OFF 0x1000
#define PALISADE_SYSTRAP_FRESH_FRAME_OFF 0x8000
#define PALISADE_SYSTRAP_FRESH_FP_OFF 0xA000
#define PALISADE_SYSTRAP_SCRATCH_OFF 0xC000

/* The mapping-sync table at CONTROL_ADDR, run by one thread on MEMOPS: a
 * u64 count, then `count` entries of 8 u64s (syscall number, six
 * arguments, unused). Each result goes to the u64 at SCRATCH_OFF + 8 * i
 * of the running thread's region. */
#define PALISADE_SYSTRAP_MEMOPS_ENTRY 64
#define PALISADE_SYSTRAP_MEMOPS_MAX ((PALISADE_SYSTRAP_CONTROL_SIZE - 8) / PALISADE_SYSTRAP_MEMOPS_ENTRY)

/* Spin iterations (with `pause`, ~25 ns each on the benchmark VM) before a
 * stub thread sleeps in FUTEX_WAIT: long enough for the sentry to answer a
 * quick syscall, short enough not to hold a CPU the sentry's other threads
 * need while it serves a slow one (1000 made pipe and futex ping-pong
 * ~1.5x slower on 2 vCPUs). */
#define PALISADE_SYSTRAP_STUB_SPIN 250

#endif  /* PALISADE_PLATFORM_STUB_SYSTRAP_ABI_H_ */
