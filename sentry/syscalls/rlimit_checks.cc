#include "sentry/syscalls/rlimit_checks.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade::sys {

namespace {

constexpr uint64_t kPage = 4096;

uint64_t PageUp(uint64_t v) { return v > ~0ull - (kPage - 1) ? ~0ull & ~(kPage - 1) : (v + kPage - 1) & ~(kPage - 1); }

// Linux's send_sig(SIGXFSZ, current, 0).
Errno FileTooBig(Task& t) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  TaskOps::SendToTaskLocked(t, MakeKillInfo(SIGXFSZ, SI_USER, t.tgid(), t.creds().ruid));
  return Errno(EFBIG);
}

}  // namespace

uint64_t RlimitCur(Task& t, int resource) {
  std::lock_guard<std::mutex> l(t.kernel().mu());
  return t.thread_group().rlimits[resource].rlim_cur;
}

ErrnoOr<uint64_t> LimitFileWrite(Task& t, FileDescription& f, int64_t pos, uint64_t count) {
  const uint64_t limit = RlimitCur(t, RLIMIT_FSIZE);
  if (limit == RLIM_INFINITY || count == 0) return count;
  auto st = f.Stat(t);
  if (!st.ok() || !S_ISREG(st->st_mode)) return count;
  if (f.flags() & O_APPEND) {
    pos = st->st_size;
  } else if (pos < 0) {
    PAL_TRY(pos, f.Seek(t, 0, SEEK_CUR));
  }
  if (static_cast<uint64_t>(pos) >= limit) return FileTooBig(t);
  return std::min<uint64_t>(count, limit - static_cast<uint64_t>(pos));
}

Errno CheckFileGrowth(Task& t, int64_t old_size, int64_t new_size) {
  if (new_size <= old_size) return Errno::Ok();
  const uint64_t limit = RlimitCur(t, RLIMIT_FSIZE);
  if (limit != RLIM_INFINITY && static_cast<uint64_t>(new_size) > limit) return FileTooBig(t);
  return Errno::Ok();
}

Errno CheckAddressSpace(Task& t, uint64_t grow, uint64_t replaced) {
  const uint64_t limit = RlimitCur(t, RLIMIT_AS);
  if (limit == RLIM_INFINITY || grow == 0) return Errno::Ok();
  // may_expand_vm(): total_vm + npages > limit, in pages.
  const uint64_t total = t.mm().VirtualSize() - std::min(replaced, t.mm().VirtualSize());
  const uint64_t pages = total / kPage + PageUp(grow) / kPage;
  if (pages > limit / kPage) return Errno(ENOMEM);
  return Errno::Ok();
}

Errno CheckMemlock(Task& t, uint64_t len) {
  if (t.creds().HasCap(CAP_IPC_LOCK)) return Errno::Ok();
  const uint64_t limit = RlimitCur(t, RLIMIT_MEMLOCK);
  if (limit == 0) return Errno(EPERM);  // can_do_mlock()
  if (limit != RLIM_INFINITY && PageUp(len) / kPage > limit / kPage) return Errno(ENOMEM);
  return Errno::Ok();
}

}  // namespace palisade::sys
