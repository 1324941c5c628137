// uname, hostname, sysinfo and getrandom.
#include <linux/random.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <cstring>
#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/syscalls/handlers.h"

namespace palisade::sys {

// The kernel the sandbox claims to be. glibc needs >= 3.2; a recent LTS
// version keeps feature probes (statx, clone3, openat2) honest, since an
// unimplemented call still answers ENOSYS.
inline constexpr char kRelease[] = "5.15.0-palisade";
inline constexpr char kVersion[] = "#1 SMP Palisade sentry";

SyscallResult Uname(Task& t, const SyscallArgs& a) {
  struct utsname u {};
  strcpy(u.sysname, "Linux");
  std::string h = t.kernel().hostname();
  strncpy(u.nodename, h.c_str(), sizeof(u.nodename) - 1);
  strcpy(u.release, kRelease);
  strcpy(u.version, kVersion);
  strcpy(u.machine, "x86_64");
  strcpy(u.domainname, "(none)");
  PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), u));
  return int64_t(0);
}

SyscallResult Sethostname(Task& t, const SyscallArgs& a) {
  if (!t.creds().HasCap(21 /* CAP_SYS_ADMIN */)) return Errno(EPERM);
  size_t len = a[1].Size();
  if (len > 64) return Errno(EINVAL);
  std::string name(len, '\0');
  PAL_TRY_ERRNO(t.CopyIn(a[0].Ptr(), name.data(), len));
  t.kernel().set_hostname(name.substr(0, strnlen(name.c_str(), len)));
  return int64_t(0);
}

SyscallResult Sysinfo(Task& t, const SyscallArgs& a) {
  struct sysinfo host {};
  ::sysinfo(&host);
  struct sysinfo s {};
  // Whole seconds rounded up, as Linux does: never 0 once booted.
  s.uptime = (MonotonicNowNs() - t.kernel().boot_time_mono_ns() + 999999999) / 1000000000;
  s.totalram = host.totalram;
  s.freeram = host.freeram;
  s.sharedram = host.sharedram;
  s.bufferram = host.bufferram;
  s.mem_unit = host.mem_unit;
  s.procs = static_cast<uint16_t>(t.kernel().ThreadGroups().size());
  PAL_TRY_ERRNO(t.CopyOutObj(a[0].Ptr(), s));
  return int64_t(0);
}

SyscallResult Getrandom(Task& t, const SyscallArgs& a) {
  unsigned flags = a[2].Uint();
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) return Errno(EINVAL);
  if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM)) return Errno(EINVAL);
  size_t len = std::min<size_t>(a[1].Size(), 33554431);  // as Linux: at most 32 MiB - 1 per call
  std::vector<uint8_t> buf(std::min<size_t>(len, 1 << 20));
  size_t done = 0;
  while (done < len) {
    size_t n = std::min(buf.size(), len - done);
    ssize_t r = ::getrandom(buf.data(), n, 0);
    if (r < 0) return done ? SyscallResult(int64_t(done)) : SyscallResult(Errno::FromHost());
    PAL_TRY_ERRNO(t.CopyOut(a[0].Ptr() + done, buf.data(), r));
    done += r;
  }
  return int64_t(done);
}

}  // namespace palisade::sys
