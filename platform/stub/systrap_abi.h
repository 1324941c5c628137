/* The systrap stub ABI: where the per-thread shared region sits in a stub
 * process and what its header holds. Included by the stub assembly
 * (stub_x86_64.S) and by the sentry (platform/systrap/), so plain #defines.
 *
 * The region is 64 KiB of a per-context memfd, mapped read+write at
 * PALISADE_SYSTRAP_SHARED_ADDR in the stub (above the application range,
 * which the sentry never lets the app map, mprotect or unmap) and anywhere
 * in the sentry:
 *
 *   +0x0000  header (below): futex word, sleep flags, frame pointer, fs/gs
 *   +0x1000  signal stack: the kernel writes the SIGSYS/fault signal frame
 *            here (sigaltstack), the sentry reads and edits it in place
 *   +0x8000  the "fresh" frame a new context starts from (sentry-built)
 *   +0xA000  its fxsave area (64-byte aligned)
 *   +0xC000  scratch for set-up (sigaction, sigaltstack, BPF program),
 *            then the mapping-sync table (below)
 *   +0x10000 end (the signal stack's top)
 */
#ifndef PALISADE_PLATFORM_STUB_SYSTRAP_ABI_H_
#define PALISADE_PLATFORM_STUB_SYSTRAP_ABI_H_

#define PALISADE_SYSTRAP_SHARED_ADDR 0x7d0000010000
#define PALISADE_SYSTRAP_SHARED_SIZE 0x10000

/* Header field offsets. */
#define PALISADE_SYSTRAP_STATE 0            /* u32 futex word, values below */
#define PALISADE_SYSTRAP_STUB_SLEEPING 4    /* u32: stub is (about to be) in FUTEX_WAIT */
#define PALISADE_SYSTRAP_SENTRY_SLEEPING 8  /* u32: sentry is (about to be) in FUTEX_WAIT */
#define PALISADE_SYSTRAP_FRAME_RSP 16       /* u64: rsp at handler entry (-> pretcode) */
#define PALISADE_SYSTRAP_CUR_FS 24          /* u64: fs_base the stub has (read at event) */
#define PALISADE_SYSTRAP_CUR_GS 32          /* u64: gs_base the stub has */
#define PALISADE_SYSTRAP_WANT_FS 40         /* u64: fs_base the app gets on resume */
#define PALISADE_SYSTRAP_WANT_GS 48         /* u64: gs_base the app gets on resume */

/* STATE values. */
#define PALISADE_SYSTRAP_STATE_IDLE 0   /* fresh stub, nothing to run yet */
#define PALISADE_SYSTRAP_STATE_EVENT 1  /* stub -> sentry: a signal frame is ready */
#define PALISADE_SYSTRAP_STATE_RUN 2    /* sentry -> stub: sigreturn into the app */

/* Layout. */
#define PALISADE_SYSTRAP_ALTSTACK_OFF 0x1000
#define PALISADE_SYSTRAP_FRESH_FRAME_OFF 0x8000
#define PALISADE_SYSTRAP_FRESH_FP_OFF 0xA000
#define PALISADE_SYSTRAP_SCRATCH_OFF 0xC000

/* The mapping-sync table at SCRATCH_OFF, run by systrap_memops while the
 * sentry traces the stub: a u64 count, then `count` entries of 8 u64s:
 * syscall number, six arguments, and the result the stub stores. */
#define PALISADE_SYSTRAP_MEMOPS_ENTRY 64
#define PALISADE_SYSTRAP_MEMOPS_MAX ((0x10000 - PALISADE_SYSTRAP_SCRATCH_OFF - 8) / PALISADE_SYSTRAP_MEMOPS_ENTRY)

/* Spin iterations (with `pause`) before a side sleeps in FUTEX_WAIT. */
#define PALISADE_SYSTRAP_STUB_SPIN 1000

#endif  /* PALISADE_PLATFORM_STUB_SYSTRAP_ABI_H_ */
