// Application iovec arrays, shared by readv/writev (sys_read_write.cc) and
// sendmsg/recvmsg (sys_socket_msg.cc): copy-in with Linux's length rules,
// and copies between a sentry buffer and the app buffers they name.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/errno.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/sys_file_util.h"  // kMaxRwCount

namespace palisade::sys {

inline constexpr int kIovMax = 1024;  // UIO_MAXIOV

struct Seg {
  uint64_t base;
  uint64_t len;
};

inline uint64_t IovTotal(const std::vector<Seg>& segs) {
  uint64_t n = 0;
  for (const Seg& s : segs) n += s.len;
  return n;
}

// Copies in cnt iovecs (the caller has checked cnt against kIovMax, whose
// errno differs by call): EFAULT for a bad array, EINVAL for a negative
// length; the total is clamped to kMaxRwCount as rw_copy_check_uvector does.
inline ErrnoOr<std::vector<Seg>> CopyInIovecs(Task& t, uint64_t addr, uint64_t cnt) {
  std::vector<struct iovec> raw(cnt);
  if (cnt > 0) PAL_TRY_ERRNO(t.CopyIn(addr, raw.data(), raw.size() * sizeof(struct iovec)));
  std::vector<Seg> segs;
  uint64_t total = 0;
  for (const struct iovec& v : raw) {
    if (static_cast<int64_t>(v.iov_len) < 0) return Errno(EINVAL);
    uint64_t len = std::min<uint64_t>(v.iov_len, kMaxRwCount - total);
    total += len;
    segs.push_back(Seg{reinterpret_cast<uint64_t>(v.iov_base), len});
  }
  return segs;
}

// Copies n bytes between buf and the app buffers, starting skip bytes into
// them: out = sentry → app (CopyOut), else app → sentry (CopyIn).
inline Errno CopyIovecs(Task& t, const std::vector<Seg>& segs, uint64_t skip, uint8_t* buf, size_t n,
                        bool out) {
  for (const Seg& s : segs) {
    if (n == 0) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    size_t take = std::min<uint64_t>(s.len - skip, n);
    PAL_TRY_ERRNO(out ? t.CopyOut(s.base + skip, buf, take) : t.CopyIn(s.base + skip, buf, take));
    buf += take;
    n -= take;
    skip = 0;
  }
  return Errno::Ok();
}

}  // namespace palisade::sys
