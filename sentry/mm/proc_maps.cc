// /proc/<pid>/maps text and the size counters behind /proc/<pid>/status
// and statm.
#include <sys/sysmacros.h>

#include <cstdio>
#include <unordered_set>

#include "sentry/mm/mm_impl.h"

namespace palisade {

using mm::Vma;

namespace {

// One line as Linux's show_map_vma() prints it: the fields, then (if there
// is a name) spaces up to column 73 and the name. Lines without a name keep
// the trailing space after the inode, as Linux's do.
void AppendLine(std::string& out, const Vma& first, uint64_t end) {
  const Vma& v = first;
  std::string name = v.name;
  if (name.empty() && v.shared && !v.is_file()) name = "/dev/zero (deleted)";  // shmem, as Linux
  const uint64_t dev = v.is_file() ? v.file->Dev() : 0;
  const uint64_t ino = v.is_file() ? v.file->Ino() : 0;
  char buf[160];
  int n = std::snprintf(buf, sizeof(buf), "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
                        static_cast<unsigned long>(v.start), static_cast<unsigned long>(end),
                        v.prot & PROT_READ ? 'r' : '-', v.prot & PROT_WRITE ? 'w' : '-',
                        v.prot & PROT_EXEC ? 'x' : '-', v.shared ? 's' : 'p',
                        static_cast<unsigned long>(v.is_file() ? v.file_off : 0),
                        gnu_dev_major(dev), gnu_dev_minor(dev), static_cast<unsigned long>(ino));
  std::string line(buf, static_cast<size_t>(n));
  if (!name.empty()) {
    // Fields are padded to 25 + 6 * sizeof(void*) - 1 = 72 columns, then a
    // space and the name.
    if (line.size() < 72) line.append(72 - line.size(), ' ');
    line += ' ';
    line += name;
  }
  out += line;
  out += '\n';
}

}  // namespace

std::string MemoryManager::ProcMaps() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string out;
  const auto& vmas = impl_->vmas;
  for (auto it = vmas.begin(); it != vmas.end();) {
    // VMAs that continue one another (a grown heap, an mremap'd region)
    // print as one line, as Linux merges them into one VMA.
    auto last = it;
    for (auto next = std::next(it); next != vmas.end() && mm::Continues(last->second, next->second);
         ++next) {
      last = next;
    }
    AppendLine(out, it->second, last->second.end);
    it = std::next(last);
  }
  return out;
}

uint64_t MemoryManager::VirtualSize() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  uint64_t total = 0;
  for (const auto& [start, v] : impl_->vmas) total += v.len();
  return total;
}

uint64_t MemoryManager::MappedBytes(uint64_t addr, uint64_t len) {
  const uint64_t end = addr + len < addr ? ~0ull : addr + len;
  std::lock_guard<std::mutex> lock(impl_->mu);
  uint64_t total = 0;
  impl_->ForEachVma(addr, end, [&](mm::Vma&, uint64_t lo, uint64_t hi) { total += hi - lo; });
  return total;
}

uint64_t MemoryManager::ResidentSize() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  // Resident = pages the host has allocated behind this mm's VMAs. Pages of
  // a shared backing count for every mm mapping them, as Linux's RSS does.
  uint64_t total = 0;
  for (const auto& [start, v] : impl_->vmas) {
    if (!v.backing) {
      // The file's pages (shm) this mm has mapped; nothing past an object.
      if (v.shm) {
        v.mapped.ForEachRun(0, v.mapped.size(), true,
                            [&](uint64_t a, uint64_t b) { total += (b - a) * mm::kPageSize; });
      }
      continue;
    }
    impl_->mf.ForEachPopulated(v.MfOffset(v.start), v.len(),
                               [&](uint64_t, uint64_t n) { total += n; });
  }
  return total;
}

}  // namespace palisade
