// Copying between application memory and the sentry. Bytes go through the
// sentry's own mapping of the MemoryFile (MemoryFile::Pointer), so the
// application's threads keep running and no host syscall is involved
// except to read file chunks in. WithReadableViews lends that mapping to a
// host call instead of copying.
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::Vma;

template <typename Fn>
Errno MemoryManager::Impl::Walk(uint64_t addr, uint64_t len, int need_prot, bool write, Fn fn) {
  if (len == 0) return Errno::Ok();
  if (addr + len < addr) return Errno(EFAULT);
  const uint64_t end = addr + len;
  uint64_t cur = addr;
  while (cur < end) {
    Vma* v = Find(cur);
    // The kernel grows the stack on a uaccess fault too (signal frames are
    // written below the stack pointer, possibly below the stack VMA).
    if (!v && GrowStack(cur)) v = Find(cur);
    if (!v) return Errno(EFAULT);
    if ((need_prot & PROT_READ) && !mm::CanRead(v->prot)) return Errno(EFAULT);
    if ((need_prot & PROT_WRITE) && !mm::CanWrite(v->prot)) return Errno(EFAULT);
    uint64_t stop = std::min(end, v->end);
    // A forced write (the loader's) never reaches an immutable file's pages.
    if (write && v->shm && !v->shared) PAL_TRY_ERRNO(PrivatizeFileVma(*v));
    if (!v->backing && !v->shm) return Errno(EFAULT);  // past a shared object's end
    if (v->shm) {
      // The file's own pages, straight through the sentry's mapping.
      stop = std::min(stop, EofEnd(*v));
      if (stop <= cur) return Errno(EFAULT);
      bool more = true;
      uint64_t at = cur;  // next address fn gets
      const uint64_t page_lo = mm::PageDown(cur);
      ErrnoOr<int64_t> r = v->shm->ForEachPageRun(
          static_cast<int64_t>(v->FileOffset(page_lo)), static_cast<int64_t>(v->FileOffset(mm::PageUp(stop))), true,
          [&](int64_t fo, uint64_t mo, uint64_t len) {
            const uint64_t addr = v->start + (static_cast<uint64_t>(fo) - v->file_off);
            const uint64_t a = std::max(addr, at), b = std::min(addr + len, stop);
            if (!more || a >= b || a != at) return;
            more = fn(mf.Pointer(mo + (a - addr)), b - a);
            at = b;
          });
      if (!r.ok() || at < stop) return more ? Errno(EFAULT) : Errno::Ok();
      if (!more) return Errno::Ok();
      cur = stop;
      continue;
    }
    if (v->is_file()) {
      // Bytes past the page holding end of file do not exist (SIGBUS for
      // the app, EFAULT for a syscall); those before must be read in.
      stop = std::min(stop, EofEnd(*v));
      if (stop <= cur) return Errno(EFAULT);
      if (!FaultIn(*v, cur, stop).ok()) return Errno(EFAULT);
      if (write) v->written |= v->shared;  // to be written back
    }
    if (!fn(v->backing->Pointer(v->BackingOff(cur)), stop - cur)) return Errno::Ok();
    cur = stop;
  }
  return Errno::Ok();
}

Errno MemoryManager::CopyIn(uint64_t addr, void* dst, size_t len) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto* out = static_cast<uint8_t*>(dst);
  return impl_->Walk(addr, len, PROT_READ, false, [&](uint8_t* p, uint64_t n) {
    std::memcpy(out, p, n);
    out += n;
    return true;
  });
}

Errno MemoryManager::CopyOut(uint64_t addr, const void* src, size_t len) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto* in = static_cast<const uint8_t*>(src);
  return impl_->Walk(addr, len, PROT_WRITE, true, [&](uint8_t* p, uint64_t n) {
    std::memcpy(p, in, n);
    in += n;
    return true;
  });
}

Errno MemoryManager::CopyOutForce(uint64_t addr, const void* src, size_t len) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto* in = static_cast<const uint8_t*>(src);
  return impl_->Walk(addr, len, 0, true, [&](uint8_t* p, uint64_t n) {
    std::memcpy(p, in, n);
    in += n;
    return true;
  });
}

Errno MemoryManager::ZeroOut(uint64_t addr, size_t len) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Walk(addr, len, PROT_WRITE, true, [&](uint8_t* p, uint64_t n) {
    std::memset(p, 0, n);
    return true;
  });
}

ErrnoOr<int64_t> MemoryManager::WithReadableViews(std::span<const struct iovec> app, ViewsFn fn) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<struct iovec> views;
  bool faulted = false;
  for (const struct iovec& a : app) {
    Errno e = impl_->Walk(reinterpret_cast<uint64_t>(a.iov_base), a.iov_len, PROT_READ, false,
                          [&](uint8_t* p, uint64_t n) {
                            // Consecutive VMAs often share one backing range.
                            if (!views.empty() && static_cast<uint8_t*>(views.back().iov_base) +
                                                          views.back().iov_len == p) {
                              views.back().iov_len += n;
                            } else {
                              views.push_back({p, n});
                            }
                            return true;
                          });
    if (!e.ok()) {
      faulted = true;
      break;
    }
  }
  // Views of a MAP_SHARED tmpfs mapping may meet a concurrent truncate of
  // that file; the host call then reads zeros there (the pages are in the
  // file's own chunks, never reused while it is mapped), as a racing
  // native write may.
  return fn(views, faulted);
}

ErrnoOr<std::string> MemoryManager::CopyInString(uint64_t addr, size_t max) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string out;
  bool done = false;
  // Page by page, so nothing past the terminating NUL is touched: the
  // string may end right before an unmapped or unreadable page.
  uint64_t cur = addr;
  while (!done && out.size() < max) {
    const uint64_t page_end = mm::PageDown(cur) + mm::kPageSize;
    const uint64_t n = std::min<uint64_t>(page_end - cur, max - out.size());
    PAL_TRY_ERRNO(impl_->Walk(cur, n, PROT_READ, false, [&](uint8_t* p, uint64_t len) {
      const void* nul = std::memchr(p, 0, len);
      const uint64_t take = nul ? static_cast<const uint8_t*>(nul) - p : len;
      out.append(reinterpret_cast<const char*>(p), take);
      done = nul != nullptr;
      return !done;
    }));
    cur += n;
  }
  if (!done) return Errno(ENAMETOOLONG);
  return out;
}

}  // namespace palisade
