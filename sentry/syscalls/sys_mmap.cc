// Memory syscalls: mmap, munmap, mprotect, brk, mremap, madvise, msync,
// mincore and the mlock family. Argument decoding and the file checks that
// need the fd table live here; the semantics live in MemoryManager.
#include <sys/mman.h>

#include <algorithm>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/syscalls/handlers.h"

namespace palisade::sys {

namespace {

constexpr uint64_t kPageSize = 4096;

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
  return t.mm().Mmap(opts);
}

SyscallResult Munmap(Task& t, const SyscallArgs& a) {
  return t.mm().Munmap(a[0].Ptr(), a[1].Size());
}

SyscallResult Mprotect(Task& t, const SyscallArgs& a) {
  return t.mm().Mprotect(a[0].Ptr(), a[1].Size(), a[2].Int());
}

SyscallResult Brk(Task& t, const SyscallArgs& a) {
  return static_cast<int64_t>(t.mm().Brk(a[0].Ptr()));
}

SyscallResult Mremap(Task& t, const SyscallArgs& a) {
  return t.mm().Mremap(a[0].Ptr(), a[1].Size(), a[2].Size(), a[3].Int(), a[4].Ptr());
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
  return t.mm().Mlock(a[0].Ptr(), a[1].Size(), true);
}

SyscallResult Munlock(Task& t, const SyscallArgs& a) {
  return t.mm().Mlock(a[0].Ptr(), a[1].Size(), false);
}

SyscallResult Mlockall(Task& t, const SyscallArgs& a) {
  // Nothing is ever paged out, so only the flags need checking.
  const int flags = a[0].Int();
  if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))) return Errno(EINVAL);
  if (flags == MCL_ONFAULT) return Errno(EINVAL);  // needs CURRENT or FUTURE with it
  return int64_t{0};
}

SyscallResult Munlockall(Task& t, const SyscallArgs& a) { return int64_t{0}; }

}  // namespace palisade::sys
