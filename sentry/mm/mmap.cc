// mmap(2), munmap(2) and mprotect(2) on a MemoryManager.
#include <limits>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::kPageSize;
using mm::PageAligned;
using mm::Vma;

namespace {

constexpr int kProtMask = PROT_READ | PROT_WRITE | PROT_EXEC;

// The mmap errors that need no lock, in Linux's order where it matters.
Errno CheckMmapArgs(const MmapOptions& o, uint64_t len, uint64_t span) {
  const int type = o.flags & MAP_TYPE;
  if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) return Errno(EINVAL);
  if (o.len == 0) return Errno(EINVAL);
  if (o.prot & ~kProtMask) return Errno(EINVAL);
  if ((o.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && !PageAligned(o.addr)) return Errno(EINVAL);
  if (len == 0 || len > span) return Errno(ENOMEM);  // PageUp overflowed, or larger than the AS
  if (o.file) {
    if (!PageAligned(static_cast<uint64_t>(o.offset))) return Errno(EINVAL);
    // File offsets are int64_t: the mapped range must end inside that.
    if (o.offset < 0 || static_cast<uint64_t>(o.offset) >
                            static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - len) {
      return Errno(EOVERFLOW);
    }
  }
  // The caller (sys_mmap) knows how the file was opened: EACCES as Linux.
  if (o.prot & ~o.max_prot) return Errno(EACCES);
  return Errno::Ok();
}

}  // namespace

ErrnoOr<uint64_t> MemoryManager::Mmap(const MmapOptions& o) {
  Impl& m = *impl_;
  const uint64_t len = mm::PageUp(o.len);
  PAL_TRY_ERRNO(CheckMmapArgs(o, len, m.max_addr - m.min_addr));
  const bool shared = (o.flags & MAP_TYPE) != MAP_PRIVATE;
  const bool fixed = o.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);

  std::lock_guard<std::mutex> lock(m.mu);
  uint64_t addr;
  if (fixed) {
    addr = o.addr;
    // Below the minimum is a policy refusal (mmap_min_addr), above the
    // maximum simply does not fit.
    if (addr < m.min_addr) return Errno(EPERM);
    if (addr > m.max_addr - len) return Errno(ENOMEM);
    if ((o.flags & MAP_FIXED_NOREPLACE) && !m.RangeFree(addr, addr + len)) return Errno(EEXIST);
  } else {
    auto a = m.Place(o.addr, len, o.flags & MAP_32BIT);
    if (!a) return Errno(ENOMEM);
    addr = *a;
  }

  if (!o.file) {
    // MAP_FIXED replaces whatever is there; everything else found a hole.
    if (fixed) m.RemoveRange(addr, addr + len);
    const bool stack = o.flags & MAP_GROWSDOWN;
    PAL_TRY(auto it, m.NewAnonVma(addr, len, o.prot, shared, o.name,
                                  stack && !shared ? mm::kStackReserve : 0, 0));
    it->second.max_prot = o.max_prot;
    it->second.growsdown = stack;
    // MAP_POPULATE / MAP_LOCKED: the pages get memory now (mincore sees
    // them resident, later first touches cost no host page allocation).
    if (o.flags & (MAP_POPULATE | MAP_LOCKED)) m.mf.Commit(it->second.MfOffset(addr), len);
    return addr;
  }

  // File mapping: a shared one of a file in the MemoryFile maps the file's
  // pages, so does a private one that cannot write of an immutable file
  // (it turns into a private copy if mprotect adds PROT_WRITE:
  // PrivatizeFileVma); any other gets a backing now, filled on demand.
  FileMemory* shm = shared ? o.file->Memory() : nullptr;
  if (!shm && !(o.prot & PROT_WRITE)) shm = o.file->ImmutablePages();
  std::shared_ptr<mm::Backing> backing;
  if (!shm) {
    PAL_TRY(backing, mm::Backing::Allocate(m.mf, len, shared, /*file_backed=*/true));
  }
  if (fixed) m.RemoveRange(addr, addr + len);
  Vma v;
  v.start = addr;
  v.end = addr + len;
  v.prot = o.prot;
  v.max_prot = o.max_prot;
  v.shared = shared;
  v.written = shared && (o.prot & PROT_WRITE) && !shm;
  v.file = o.file;
  v.file_off = static_cast<uint64_t>(o.offset);
  v.name = o.name.empty() ? o.file->Name() : o.name;
  v.backing = std::move(backing);
  v.shm = shm;
  if (shm) {
    v.backing_off = v.file_off;  // see Vma::backing
    shm->AddMapper(m.mapper);
  }
  v.mapped.Resize(len / kPageSize);
  Vma& in = m.vmas.emplace(addr, std::move(v)).first->second;
  // MAP_POPULATE / MAP_LOCKED pre-fault what exists of the file; errors
  // (or a mapping past end of file) only mean later faults do the work.
  if (o.flags & (MAP_POPULATE | MAP_LOCKED)) (void)m.FaultIn(in, addr, addr + len);
  return addr;
}

Errno MemoryManager::Munmap(uint64_t addr, uint64_t len) {
  Impl& m = *impl_;
  if (!PageAligned(addr) || len == 0) return Errno(EINVAL);
  len = mm::PageUp(len);
  if (len == 0 || addr > m.max_addr || m.max_addr - addr < len) return Errno(EINVAL);
  std::lock_guard<std::mutex> lock(m.mu);
  m.RemoveRange(addr, addr + len);
  return Errno::Ok();
}

Errno MemoryManager::Mprotect(uint64_t addr, uint64_t len, int prot) {
  Impl& m = *impl_;
  if (!PageAligned(addr)) return Errno(EINVAL);
  if (prot & ~(kProtMask | PROT_GROWSDOWN | PROT_GROWSUP)) return Errno(EINVAL);
  if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP)) return Errno(EINVAL);
  if (len == 0) return Errno::Ok();
  len = mm::PageUp(len);
  if (len == 0 || addr + len < addr) return Errno(ENOMEM);
  const bool down = prot & PROT_GROWSDOWN;
  prot &= kProtMask;

  std::lock_guard<std::mutex> lock(m.mu);
  uint64_t start = addr, end = addr + len;
  Vma* first = m.Find(start);
  if (!first) return Errno(ENOMEM);
  // PROT_GROWSDOWN: the change extends down to the start of the stack VMA.
  if (down) {
    if (!first->growsdown) return Errno(EINVAL);
    start = first->start;
  }
  m.SplitAt(start);
  m.SplitAt(end);
  // As Linux: VMAs are changed in order up to the first hole or refusal,
  // which is then reported (earlier changes stay).
  Errno result;
  uint64_t cur = start;
  for (auto it = m.vmas.find(start); cur < end; ++it) {
    if (it == m.vmas.end() || it->first != cur) {
      result = Errno(ENOMEM);
      break;
    }
    Vma& v = it->second;
    if (prot & ~v.max_prot) {
      result = Errno(EACCES);
      break;
    }
    if (v.prot != prot) {
      if (!v.shared && v.shm && (prot & PROT_WRITE)) {
        if (Errno e = m.PrivatizeFileVma(v); !e.ok()) {
          result = e;
          break;
        }
      }
      v.prot = prot;
      if (v.shared && !v.shm && (prot & PROT_WRITE)) v.written = true;
      // Re-map what is mapped with the new protection; unmapped file pages
      // pick it up when they are faulted in.
      if (Errno e = m.MapVma(v, v.start, v.end); !e.ok()) {
        result = Errno(ENOMEM);
        break;
      }
    }
    cur = v.end;
  }
  m.MergeRange(start, end);
  return result;
}

}  // namespace palisade
