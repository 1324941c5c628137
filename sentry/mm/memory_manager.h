// MemoryManager: one application address space (Linux's mm_struct). Keeps
// the VMAs (address ranges with protections, backing and names), mirrors
// them into a platform::AddressSpace as MemoryFile ranges, serves faults,
// and copies bytes between app memory and the sentry (CopyIn/CopyOut go
// through the sentry's own mapping of the MemoryFile, never
// process_vm_readv).
//
// Backing: anonymous private and shared memory is one MemoryFile range per
// VMA, mapped into the AddressSpace eagerly (the host zero-fills on first
// touch); growing a shared one with mremap leaves the grown part past the
// object's end (SIGBUS). Private file mappings are populated on demand: a
// fault (or a CopyIn) reads the file bytes of the surrounding chunk into
// MemoryFile pages, then maps the chunk. MAP_SHARED mappings of files
// whose data lives in the MemoryFile (tmpfs: FileMemory) map the file's
// own pages on fault: coherent with read(2)/write(2) and across processes.
// fork copies the populated pages of private VMAs (holes stay holes) and
// shares the ranges of MAP_SHARED ones. True copy-on-write is future work:
// fork costs a copy of resident private memory. MAP_SHARED mappings of
// other files (gofer: data on a host fd) are a partial emulation: coherent
// between the mms sharing them, written back on msync/munmap/exit, but not
// coherent with read(2)/write(2) of the file (see file_pages.cc).
// Shared with CLONE_VM; thread-safe (one mutex; lock order in mm_impl.h).
//
//   auto mm = std::make_shared<MemoryManager>(mf, platform);
//   ErrnoOr<uint64_t> a = mm->Mmap({.len = 4096, .prot = PROT_READ|PROT_WRITE,
//                                   .flags = MAP_PRIVATE|MAP_ANONYMOUS});
//   mm->CopyOut(*a, "hi", 2);
#pragma once

#include <sys/mman.h>
#include <sys/uio.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "base/errno.h"
#include "platform/platform.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/mm/memory_file.h"

namespace palisade {

namespace mm {
class Backing;
struct MmMapper;
}

// One part of a special mapping (MemoryManager::MapSpecial).
struct SpecialPart {
  uint64_t len = 0;  // page aligned
  int prot = 0;
  int max_prot = 0;  // what mprotect may grant later
  std::string name;  // "[vvar]", "[vdso]"
};

struct MmapOptions {
  uint64_t addr = 0;  // hint, or exact with MAP_FIXED / MAP_FIXED_NOREPLACE
  uint64_t len = 0;
  int prot = 0;       // PROT_*
  int flags = 0;      // MAP_* (MAP_PRIVATE/MAP_SHARED, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN...)
  // (The `= nullptr` / `= {}` keep GCC 12's -Wmissing-field-initializers
  // quiet for designated initializers that leave these out.)
  std::shared_ptr<MappableFile> file = nullptr;  // null for anonymous
  int64_t offset = 0;                            // file offset, page aligned
  std::string name = {};                         // "[stack]", "[heap]" ... for /proc/pid/maps
  // Protections mprotect may later grant (EACCES beyond): sys_mmap clears
  // PROT_WRITE for a MAP_SHARED mapping of a file not open for writing.
  int max_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
};

enum class FaultResult {
  kHandled,     // mapped now; resume the app
  kBadAddress,  // no VMA: SIGSEGV with SEGV_MAPERR
  kAccessError, // VMA forbids the access: SIGSEGV with SEGV_ACCERR
  kBusError,    // beyond the end of a file mapping: SIGBUS
};

class MemoryManager {
 public:
  MemoryManager(MemoryFile& mf, platform::Platform& platform);
  ~MemoryManager();  // frees MemoryFile ranges no other mm shares

  platform::AddressSpace& address_space() { return *as_; }

  // mmap(2) semantics, errno as Linux: EINVAL for bad len/alignment/flags,
  // ENOMEM when no room, EEXIST for MAP_FIXED_NOREPLACE overlap.
  ErrnoOr<uint64_t> Mmap(const MmapOptions& opts);
  // Maps memory the sentry owns and keeps writing (the vDSO and its time
  // page): parts laid out back to back over the MemoryFile range of
  // `backing` (a shared Backing, see special_mapping.cc), at a place the mm
  // chooses. Fork shares it; munmap/mremap treat it as shared memory.
  // Returns its address.
  ErrnoOr<uint64_t> MapSpecial(std::shared_ptr<mm::Backing> backing,
                               const std::vector<SpecialPart>& parts);
  // A zero-filled shared Backing for MapSpecial, of len bytes.
  static ErrnoOr<std::shared_ptr<mm::Backing>> AllocateSpecial(MemoryFile& mf, uint64_t len);
  Errno Munmap(uint64_t addr, uint64_t len);
  Errno Mprotect(uint64_t addr, uint64_t len, int prot);
  // mremap(2) with MREMAP_MAYMOVE / MREMAP_FIXED. A move keeps the pages
  // (same MemoryFile range, new address). EINVAL for MREMAP_DONTUNMAP and
  // for old_len == 0 (duplicating a shared mapping): not supported.
  ErrnoOr<uint64_t> Mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags,
                           uint64_t new_addr);
  // brk(2): returns the new (or unchanged, on failure) break.
  uint64_t Brk(uint64_t addr);
  // Sets the heap start (after exec loads the ELF). Randomization is the caller's.
  void SetBrkBase(uint64_t addr);
  Errno Madvise(uint64_t addr, uint64_t len, int advice);  // DONTNEED zeroes private anon
  Errno Msync(uint64_t addr, uint64_t len, int flags);
  // vec gets one byte per page of [addr, addr+len): 1 if it has memory.
  // REQUIRES: vec.size() >= pages (EINVAL otherwise).
  Errno Mincore(uint64_t addr, uint64_t len, std::span<uint8_t> vec);
  // For shared futexes: the MemoryFile offset behind addr if it lies in a
  // MAP_SHARED mapping (the same in every mm that shares it), else EFAULT
  // for unmapped addresses and ENOENT for private memory.
  ErrnoOr<uint64_t> SharedOffset(uint64_t addr);
  // mlock(2)/munlock(2): ENOMEM if part of the range is unmapped. Nothing
  // is ever swapped, so locking only faults file pages in (as Linux does).
  Errno Mlock(uint64_t addr, uint64_t len, bool lock);

  FaultResult HandleFault(uint64_t addr);
  // Same, with the host's si_code (platform::Event::fault_code). Prefer
  // this one: with SEGV_MAPERR a fault on a page this mm has mapped is a
  // thread that faulted before another mapped the page (or whose view of
  // the AddressSpace was stale), so it is retried (kHandled) instead of
  // being reported as SEGV_ACCERR.
  FaultResult HandleFault(uint64_t addr, int fault_code);

  // Copy to/from app memory, honouring VMA protections (EFAULT if any byte
  // is unmapped or lacks PROT_READ / PROT_WRITE). Force variants ignore
  // protections (loader, ptrace-like writes) but not unmapped holes.
  Errno CopyIn(uint64_t addr, void* dst, size_t len);
  Errno CopyOut(uint64_t addr, const void* src, size_t len);
  Errno CopyOutForce(uint64_t addr, const void* src, size_t len);
  Errno ZeroOut(uint64_t addr, size_t len);
  // Reads a NUL-terminated string of at most max bytes (ENAMETOOLONG past it).
  ErrnoOr<std::string> CopyInString(uint64_t addr, size_t max);

  // Lends the sentry's own views of app buffers to a host call, so a
  // write(2) copies the application's bytes once (as a native write does)
  // instead of through a bounce buffer. fn gets the views of the readable
  // prefix of `app` (app addresses, in order; adjacent views merged) and
  // `faulted` when that prefix stops short at an unmapped or unreadable
  // byte (write(2) then returns the bytes before it, as Linux does).
  // Returns what fn returns.
  // REQUIRES: fn neither blocks nor calls into this MemoryManager: it runs
  // with the mm lock held, which keeps the views valid (munmap waits).
  using ViewsFn = absl::FunctionRef<ErrnoOr<int64_t>(std::span<const struct iovec> views, bool faulted)>;
  ErrnoOr<int64_t> WithReadableViews(std::span<const struct iovec> app, ViewsFn fn);

  // fork(): a new MemoryManager with copies of private memory.
  ErrnoOr<std::shared_ptr<MemoryManager>> Fork();

  // /proc/<pid>/maps text and sizes for /proc status/statm.
  std::string ProcMaps();
  uint64_t VirtualSize();
  uint64_t ResidentSize();
  // Bytes of [addr, addr+len) that are mapped (RLIMIT_AS: what a
  // MAP_FIXED mapping there replaces).
  uint64_t MappedBytes(uint64_t addr, uint64_t len);

  // Process layout, recorded by the loader for /proc and prctl.
  struct Layout {
    uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
    uint64_t start_stack = 0, arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
    uint64_t brk_start = 0;
  };
  Layout layout();
  void set_layout(const Layout& l);
  void set_auxv(std::string auxv);  // raw bytes, for /proc/pid/auxv
  std::string auxv();
  // The executable, for /proc/<pid>/exe and the maps line of the binary.
  void set_exe_path(std::string p);
  std::string exe_path();

  // Top-down allocation starts below this address (the loader sets it
  // under the stack).
  void set_mmap_base(uint64_t a);

 private:
  friend struct mm::MmMapper;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<platform::AddressSpace> as_;
};

}  // namespace palisade
