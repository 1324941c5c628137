// Memory syscalls: mmap, munmap, mprotect, brk, mremap, madvise, msync,
// mincore and the mlock family. Argument decoding and the file checks that
// need the fd table live here; the semantics live in MemoryManager.
#include <sys/mman.h>

#include <algorithm>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/rlimit_checks.h"

namespace palisade::sys {

namespace {

constexpr uint64_t kPageSize = 4096;

// Rounds up to a page; saturates instead of wrapping.
uint64_t PageUp(uint64_t v) {
  return v > ~0ull - (kPageSize - 1) ? ~(kPageSize - 1) : (v + kPageSize - 1) & ~(kPageSize - 1);
}

// Resolves the file of a non-anonymous mmap and fills the file fields of
// opts, with Linux's access checks: the file must be open for reading
// (even for a write-only mapping: the pages are read in), and a writable
// MAP_SHARED mapping needs it open for writing too. A shared mapping of a
// file not open for writing may never become writable (max_prot).
Errno SetUpFileMapping(Task& t, int fd, MmapOptions& opts) {
  PAL_TRY(FileRef file, t.fds().GetOrEbadf(fd));
  std::shared_ptr<MappableFile> mappable = file->Mappable();
  if (!mappable) return Errno(ENODEV);
  if (!file->readable()) return Errno(EACCES);
  const bool shared = (opts.flags & MAP_TYPE) != MAP_PRIVATE;
  if (shared && !file->writable()) {
    if (opts.prot & PROT_WRITE) return Errno(EACCES);
    opts.max_prot &= ~PROT_WRITE;
  }
  opts.name = mappable->Name();
  opts.file = std::move(mappable);
  return Errno::Ok();
}

}  // namespace

SyscallResult Mmap(Task& t, const SyscallArgs& a) {
  MmapOptions opts;
  opts.addr = a[0].Ptr();
  opts.len = a[1].Size();
  opts.prot = a[2].Int();
  opts.flags = a[3].Int();
  opts.offset = a[5].Int64();
  if (!(opts.flags & MAP_ANONYMOUS)) {
    PAL_TRY_ERRNO(SetUpFileMapping(t, a[4].Fd(), opts));
  } else {
    opts.offset = 0;  // ignored for anonymous mappings, as Linux does
  }
  if (opts.len > 0) {
    // MAP_FIXED first unmaps what it lands on (MAP_FIXED_NOREPLACE fails).
    const bool replaces = (opts.flags & MAP_FIXED) && !(opts.flags & MAP_FIXED_NOREPLACE);
    const uint64_t replaced = replaces ? t.mm().MappedBytes(opts.addr, opts.len) : 0;
    PAL_TRY_ERRNO(CheckAddressSpace(t, opts.len, replaced));
  }
  return t.mm().Mmap(opts);
}

SyscallResult Munmap(Task& t, const SyscallArgs& a) {
  return t.mm().Munmap(a[0].Ptr(), a[1].Size());
}

SyscallResult Mprotect(Task& t, const SyscallArgs& a) {
  return t.mm().Mprotect(a[0].Ptr(), a[1].Size(), a[2].Int());
}

SyscallResult Brk(Task& t, const SyscallArgs& a) {
  const uint64_t want = a[0].Ptr();
  const uint64_t cur = t.mm().Brk(0);
  // A break that would grow the address space past RLIMIT_AS stays put.
  if (want > cur && !CheckAddressSpace(t, PageUp(want) - PageUp(cur)).ok()) return static_cast<int64_t>(cur);
  return static_cast<int64_t>(t.mm().Brk(want));
}

SyscallResult Mremap(Task& t, const SyscallArgs& a) {
  const uint64_t old_len = a[1].Size(), new_len = a[2].Size(), new_addr = a[4].Ptr();
  const int flags = a[3].Int();
  if (new_len > old_len) {
    // MREMAP_FIXED first unmaps the target range.
    const uint64_t replaced = (flags & MREMAP_FIXED) ? t.mm().MappedBytes(new_addr, new_len) : 0;
    PAL_TRY_ERRNO(CheckAddressSpace(t, PageUp(new_len) - PageUp(old_len), replaced));
  }
  return t.mm().Mremap(a[0].Ptr(), old_len, new_len, flags, new_addr);
}

SyscallResult Madvise(Task& t, const SyscallArgs& a) {
  return t.mm().Madvise(a[0].Ptr(), a[1].Size(), a[2].Int());
}

SyscallResult Msync(Task& t, const SyscallArgs& a) {
  return t.mm().Msync(a[0].Ptr(), a[1].Size(), a[2].Int());
}

SyscallResult Mincore(Task& t, const SyscallArgs& a) {
  const uint64_t addr = a[0].Ptr(), len = a[1].Size(), vec = a[2].Ptr();
  if (addr % kPageSize != 0) return Errno(EINVAL);
  if (len > ~0ull - (kPageSize - 1)) return Errno(ENOMEM);
  const uint64_t pages = (len + kPageSize - 1) / kPageSize;
  // In batches, so a huge range does not need a huge buffer in the sentry.
  constexpr uint64_t kBatch = 4096;
  std::vector<uint8_t> buf(std::min(pages, kBatch));
  for (uint64_t done = 0; done < pages;) {
    const uint64_t n = std::min(pages - done, kBatch);
    PAL_TRY_ERRNO(t.mm().Mincore(addr + done * kPageSize, n * kPageSize,
                                 std::span<uint8_t>(buf.data(), n)));
    PAL_TRY_ERRNO(t.CopyOut(vec + done, buf.data(), n));
    done += n;
  }
  return int64_t{0};
}

SyscallResult Mlock(Task& t, const SyscallArgs& a) {
  const uint64_t addr = a[0].Ptr(), len = a[1].Size();
  PAL_TRY_ERRNO(CheckMemlock(t, len + (addr % kPageSize)));
  return t.mm().Mlock(addr, len, true);
}

SyscallResult Munlock(Task& t, const SyscallArgs& a) {
  return t.mm().Mlock(a[0].Ptr(), a[1].Size(), false);
}

SyscallResult Mlockall(Task& t, const SyscallArgs& a) {
  // Nothing is ever paged out, so only the flags need checking.
  const int flags = a[0].Int();
  if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))) return Errno(EINVAL);
  if (flags == MCL_ONFAULT) return Errno(EINVAL);  // needs CURRENT or FUTURE with it
  PAL_TRY_ERRNO(CheckMemlock(t, 0));
  if (flags & MCL_CURRENT) PAL_TRY_ERRNO(CheckMemlock(t, t.mm().VirtualSize()));
  return int64_t{0};
}

SyscallResult Munlockall(Task& t, const SyscallArgs& a) { return int64_t{0}; }

}  // namespace palisade::sys
