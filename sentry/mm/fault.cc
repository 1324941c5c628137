// Application page faults: populating file chunks on first touch, growing
// MAP_GROWSDOWN stacks, and classifying the rest as SIGSEGV or SIGBUS.
#include <algorithm>
#include <iterator>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::kPageSize;
using mm::Vma;

bool MemoryManager::Impl::GrowStack(uint64_t addr) {
  auto it = vmas.upper_bound(addr);  // the first VMA above addr
  if (it == vmas.end()) return false;
  const Vma& v = it->second;
  if (!v.growsdown || v.is_file() || v.shared || v.start - addr > mm::kStackMaxGap) return false;
  // Never into (or below) the VMA underneath, nor below the user range.
  uint64_t floor = min_addr;
  if (it != vmas.begin()) floor = std::max(floor, std::prev(it)->second.end);
  if (mm::PageDown(addr) < floor) return false;
  // A chunk at a time rather than a page: fewer faults and AS updates for a
  // stack growing page by page, at the price of a little more address space.
  const uint64_t new_start = std::max(floor, mm::ChunkDown(addr));
  return GrowDown(it, v.start - new_start).ok();
}

FaultResult MemoryManager::HandleFault(uint64_t addr) { return HandleFault(addr, 0); }

FaultResult MemoryManager::HandleFault(uint64_t addr, int fault_code) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  Vma* v = m.Find(addr);
  if (!v) return m.GrowStack(addr) ? FaultResult::kHandled : FaultResult::kBadAddress;
  if (v->prot == PROT_NONE) return FaultResult::kAccessError;
  if (!v->backing && !v->shm) return FaultResult::kBusError;  // past a shared object's end

  const uint64_t page = mm::PageDown(addr);
  if (v->shm) {
    // The file's own pages: map (again, on a stale view) what is there;
    // beyond end of file, SIGBUS. As below, a fault on a mapped page that
    // is not SEGV_MAPERR is the protection's refusal.
    if (v->mapped.Get(v->Page(addr)) && fault_code != SEGV_MAPERR) return FaultResult::kAccessError;
    return m.FaultInShared(*v, addr, addr + 1).ok() ? FaultResult::kHandled : FaultResult::kBusError;
  }
  const bool mapped = !v->is_file() || v->mapped.Get(v->Page(addr));
  if (mapped) {
    // The access type is unknown under ptrace, so a fault on a page that is
    // mapped means the protection forbade it -- unless the host says the
    // page was not mapped at all (SEGV_MAPERR): then this thread faulted
    // before another one mapped the page, or its view of the address space
    // is not up to date yet. Mapping the page again is idempotent and the
    // retried access tells which it was.
    if (fault_code != SEGV_MAPERR) return FaultResult::kAccessError;
    Errno e = m.as->MapFile(page, kPageSize, v->MfOffset(page), v->prot);
    return e.ok() ? FaultResult::kHandled : FaultResult::kAccessError;
  }
  // A file page not mapped yet: read its chunk in. Beyond end of file (and
  // on a read error) Linux raises SIGBUS; so do we.
  Errno e = m.FaultIn(*v, addr, addr + 1);
  return e.ok() ? FaultResult::kHandled : FaultResult::kBusError;
}

}  // namespace palisade
