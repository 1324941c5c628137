/* The sentry's vDSO: clock_gettime, gettimeofday, time and getcpu without
 * a syscall (a syscall would trap to the sentry). Built freestanding
 * (-nostdlib -fPIC, vdso.lds) into one position-independent ELF image that
 * the sentry maps right after its time data page ([vvar], vdso_data.h) in
 * every process and names in AT_SYSINFO_EHDR. glibc looks the functions up
 * as __vdso_* with version LINUX_2.6 (vdso.lds).
 *
 * No relocations, no globals of its own, no stack protector: the only
 * data is the vvar page, reached PC-relatively. */
#include "sentry/loader/vdso/vdso_data.h"

struct vdso_timespec {
  long tv_sec;
  long tv_nsec;
};
struct vdso_timeval {
  long tv_sec;
  long tv_usec;
};
struct vdso_timezone {
  int tz_minuteswest;
  int tz_dsttime;
};

/* Defined by vdso.lds: the page before the image. */
extern const volatile struct palisade_vdso_data palisade_vvar __attribute__((visibility("hidden")));

#define NSEC_PER_SEC 1000000000L
#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_getcpu 309

static inline long raw_syscall3(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static inline uint64_t rdtsc_ordered(void) {
  uint32_t lo, hi;
  /* lfence: the TSC is read after the loads before it (the seqlock). */
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return ((uint64_t)hi << 32) | lo;
}

/* Nanoseconds of clock `clk`, or -1 if the vDSO cannot serve it. */
static long long read_clock_ns(int clk) {
  const volatile struct palisade_vdso_data* d = &palisade_vvar;
  if (clk < 0 || clk >= PALISADE_VDSO_CLOCKS) return -1;
  for (;;) {
    uint32_t seq = d->seq;
    __asm__ volatile("" ::: "memory");
    if (seq & 1) {
      __asm__ volatile("pause");
      continue;
    }
    if (!d->enabled || !(d->clock_mask & (1u << clk))) return -1;
    uint64_t base_tsc = d->tsc_base, mult = d->mult;
    uint32_t shift = d->shift;
    long long base = d->base_ns[clk];
    uint64_t now = rdtsc_ordered();
    __asm__ volatile("" ::: "memory");
    if (d->seq != seq) continue;
    /* A TSC a little behind tsc_base (another CPU's) counts as no time. */
    uint64_t delta = now > base_tsc ? now - base_tsc : 0;
    return base + (long long)(((unsigned __int128)delta * mult) >> shift);
  }
}

int __vdso_clock_gettime(int clk, struct vdso_timespec* ts) {
  long long ns = read_clock_ns(clk);
  if (ns < 0) return (int)raw_syscall3(SYS_clock_gettime, clk, (long)ts, 0);
  ts->tv_sec = ns / NSEC_PER_SEC;
  ts->tv_nsec = ns % NSEC_PER_SEC;
  return 0;
}

int __vdso_gettimeofday(struct vdso_timeval* tv, struct vdso_timezone* tz) {
  long long ns = read_clock_ns(0 /* CLOCK_REALTIME */);
  if (ns < 0) return (int)raw_syscall3(SYS_gettimeofday, (long)tv, (long)tz, 0);
  if (tv) {
    tv->tv_sec = ns / NSEC_PER_SEC;
    tv->tv_usec = (ns % NSEC_PER_SEC) / 1000;
  }
  if (tz) {
    /* The sandbox's kernel timezone is UTC, as the sentry reports it. */
    tz->tz_minuteswest = 0;
    tz->tz_dsttime = 0;
  }
  return 0;
}

long __vdso_time(long* t) {
  long long ns = read_clock_ns(0);
  if (ns < 0) return raw_syscall3(SYS_time, (long)t, 0, 0);
  long s = ns / NSEC_PER_SEC;
  if (t) *t = s;
  return s;
}

/* The host kernel keeps cpu | node << 12 in the limit of a per-CPU GDT
 * segment (GDT_ENTRY_PER_CPU = 15, selector 15 * 8 + 3), which LSL reads
 * from user mode: this is Linux's own vDSO getcpu without RDPID. */
int __vdso_getcpu(unsigned* cpu, unsigned* node, void* unused) {
  (void)unused;
  unsigned p = 0;
  __asm__ volatile("lsl %1, %0" : "=r"(p) : "r"(15 * 8 + 3) : "cc");
  if (cpu) *cpu = p & 0xfff;
  if (node) *node = p >> 12;
  return 0;
}

int clock_gettime(int, struct vdso_timespec*) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval*, struct vdso_timezone*)
    __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long*) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));
