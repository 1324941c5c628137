// MemoryManager construction, teardown and the process layout fields the
// loader records for /proc. The memory operations live in the files listed
// in mm_impl.h.
#include "sentry/mm/mm_impl.h"

namespace palisade {

MemoryManager::MemoryManager(MemoryFile& mf, platform::Platform& platform)
    : as_(platform.NewAddressSpace()) {
  impl_ = std::make_unique<Impl>(mf, platform, as_.get());
}

MemoryManager::~MemoryManager() {
  {
    // From now on a shrinking file no longer reaches this mm.
    std::lock_guard<std::mutex> g(impl_->mapper->mu);
    impl_->mapper->impl = nullptr;
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  // Dirty MAP_SHARED file pages outlive the process on Linux (page cache);
  // ours must reach the file now.
  for (auto& [start, v] : impl_->vmas) impl_->WriteBack(v, v.start, v.end);
  // Drop the address space before the backings: freed MemoryFile ranges
  // are reused by other mms, and no stale mapping may still point at them.
  as_.reset();
  impl_->as = nullptr;
  impl_->vmas.clear();  // frees every backing no other mm shares
}

MemoryManager::Layout MemoryManager::layout() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->layout;
}

void MemoryManager::set_layout(const Layout& l) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->layout = l;
}

void MemoryManager::set_auxv(std::string auxv) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->auxv = std::move(auxv);
}

std::string MemoryManager::auxv() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->auxv;
}

void MemoryManager::set_exe_path(std::string p) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->exe_path = std::move(p);
}

std::string MemoryManager::exe_path() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->exe_path;
}

void MemoryManager::set_mmap_base(uint64_t a) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->mmap_base = mm::PageDown(a);
}

ErrnoOr<uint64_t> MemoryManager::SharedOffset(uint64_t addr) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  mm::Vma* v = impl_->Find(addr);
  if (!v) return Errno(EFAULT);
  if (!v->shared) return Errno(ENOENT);
  if (v->shm) {
    // The file page's place in the MemoryFile: the same in every process
    // mapping the file (the page is given memory if it had none).
    const uint64_t page = mm::PageDown(addr);
    if (page >= impl_->EofEnd(*v)) return Errno(EFAULT);
    uint64_t off = 0;
    bool found = false;
    const int64_t fo = static_cast<int64_t>(v->FileOffset(page));
    ErrnoOr<int64_t> r = v->shm->ForEachPageRun(fo, fo + static_cast<int64_t>(mm::kPageSize), true,
                                                [&](int64_t, uint64_t mo, uint64_t) {
                                                  off = mo + (addr - page);
                                                  found = true;
                                                });
    if (!r.ok() || !found) return Errno(EFAULT);
    return off;
  }
  if (!v->backing) return Errno(EFAULT);  // past the end of a shared object
  return v->backing->offset() + v->backing_off + (addr - v->start);
}

}  // namespace palisade
