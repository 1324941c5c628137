/* The vDSO's time data page ("[vvar]"), written by the sentry (vdso.cc) and
 * read by the vDSO code (vdso.c) in every application process. C, because
 * the vDSO is built freestanding.
 *
 * A seqlock: the sentry makes seq odd, rewrites the fields, makes it even;
 * a reader retries if seq was odd or changed while it read. A clock c in
 * clock_mask reads as
 *   base_ns[c] + ((rdtsc() - tsc_base) * mult) >> shift
 * and every other clock (or any clock while enabled == 0: no usable TSC)
 * falls back to a real syscall, which the sentry serves. */
#ifndef PALISADE_SENTRY_LOADER_VDSO_VDSO_DATA_H_
#define PALISADE_SENTRY_LOADER_VDSO_VDSO_DATA_H_

#include <stdint.h>

#define PALISADE_VDSO_CLOCKS 8 /* clock ids 0..7 */

struct palisade_vdso_data {
  uint32_t seq;
  uint32_t enabled;
  uint64_t tsc_base;
  uint64_t mult;
  uint32_t shift;
  uint32_t clock_mask;
  int64_t base_ns[PALISADE_VDSO_CLOCKS];
};

#endif /* PALISADE_SENTRY_LOADER_VDSO_VDSO_DATA_H_ */
