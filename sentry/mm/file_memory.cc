// FileMemory: in-memory file data in the MemoryFile (see file_memory.h).
#include "sentry/mm/file_memory.h"

#include <limits.h>
#include <linux/falloc.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <bit>
#include <cstring>
#include <limits>
#include <vector>

namespace palisade {

namespace {

constexpr int64_t kMaxFileSize = std::numeric_limits<int64_t>::max();  // MAX_LFS_FILESIZE

int64_t PageUp(int64_t v) {
  return v > kMaxFileSize - (FileMemory::kPageSize - 1)
             ? kMaxFileSize / FileMemory::kPageSize * FileMemory::kPageSize
             : (v + FileMemory::kPageSize - 1) / FileMemory::kPageSize * FileMemory::kPageSize;
}

// Bits [first, last) of a chunk's page mask.
uint64_t Bits(int64_t first, int64_t last) {
  const int64_t n = last - first;
  if (n <= 0) return 0;
  return (n == 64 ? ~0ull : ((1ull << n) - 1)) << first;
}

// Data moves with pread/pwrite on the memfd rather than memcpy through the
// sentry's mapping of it: a write to new pages then allocates them in the
// kernel's write path, without a page fault per 4 KiB page (faults are the
// dominant cost on virtualized hosts), and reads touch no page tables.
bool HostRead(int fd, uint8_t* buf, int64_t len, uint64_t off) {
  while (len > 0) {
    ssize_t n = ::pread(fd, buf, static_cast<size_t>(len), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= n;
    off += static_cast<uint64_t>(n);
  }
  return true;
}

// Writes len bytes of src, from skip bytes into it, at off. src may be the
// sentry's views of app memory, so the host copies them once.
bool HostWriteV(int fd, std::span<const struct iovec> src, uint64_t skip, int64_t len, uint64_t off) {
  std::vector<struct iovec> part;
  size_t i = 0;
  while (len > 0) {
    while (i < src.size() && skip >= src[i].iov_len) skip -= src[i++].iov_len;
    if (i == src.size()) return false;
    part.clear();
    int64_t want = 0;
    for (size_t j = i; j < src.size() && want < len && part.size() < IOV_MAX; ++j) {
      const uint64_t from = j == i ? skip : 0;
      const uint64_t n = std::min<uint64_t>(src[j].iov_len - from, static_cast<uint64_t>(len - want));
      if (n == 0) continue;
      part.push_back({static_cast<uint8_t*>(src[j].iov_base) + from, n});
      want += static_cast<int64_t>(n);
    }
    ssize_t n = ::pwritev(fd, part.data(), static_cast<int>(part.size()), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    skip += static_cast<uint64_t>(n);
    len -= n;
    off += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

FileMemory::FileMemory(MemoryFile& mf, std::atomic<int64_t>* pages_counter)
    : mf_(mf), pages_counter_(pages_counter) {}

FileMemory::~FileMemory() {
  if (reserved_len_ > 0) {
    mf_.Free(reserved_off_, reserved_len_);
  } else {
    FreeChunksLocked(chunks_.begin());
  }
  if (pages_counter_) pages_counter_->fetch_sub(pages_);
}

ErrnoOr<std::shared_ptr<FileMemory>> FileMemory::NewImmutableCache(MemoryFile& mf, int64_t size, Source source) {
  if (size < 0 || !source) return Errno(EINVAL);
  auto fm = std::make_shared<FileMemory>(mf);
  const int64_t chunks = (size + kChunkSize - 1) / kChunkSize;
  if (chunks > 0) {
    // Reserving costs no memory: pages are only used once written.
    ErrnoOr<uint64_t> off = mf.Allocate(static_cast<uint64_t>(chunks * kChunkSize));
    if (!off.ok()) return Errno(ENOMEM);
    fm->reserved_off_ = *off;
    fm->reserved_len_ = static_cast<uint64_t>(chunks * kChunkSize);
  }
  fm->size_ = size;
  fm->source_ = std::move(source);
  fm->ever_mapped_ = true;  // nothing is ever released before the end
  return fm;
}

Errno FileMemory::FillLocked(int64_t index, Chunk& c) {
  const int64_t base = index * kChunkSize;
  const int64_t want = std::min(kChunkSize, size_ - base);
  // A bounce buffer rather than a read into the sentry's mapping of the
  // MemoryFile: HostWriteV's pwrite gives the pages memory without a page
  // fault each (see HostRead).
  static thread_local std::unique_ptr<uint8_t[]> buf(new uint8_t[kChunkSize]);
  int64_t got = 0;
  while (got < want) {
    ErrnoOr<int64_t> n = source_(std::span<uint8_t>(buf.get() + got, static_cast<size_t>(want - got)), base + got);
    if (!n.ok()) return Errno(EIO);
    if (*n == 0) break;  // shorter than when the cache was made: zeros
    got += *n;
  }
  // The rest of the last page reads as zeros (Allocate()d memory is).
  const struct iovec v{buf.get(), static_cast<size_t>(got)};
  if (got > 0 && !HostWriteV(mf_.fd(), {&v, 1}, 0, got, c.mf_off)) return Errno(ENOMEM);
  MarkPresentLocked(c, Bits(0, (want + kPageSize - 1) / kPageSize));
  return Errno::Ok();
}

ErrnoOr<FileMemory::Chunk*> FileMemory::ChunkLocked(int64_t index, bool create) {
  auto it = chunks_.find(index);
  if (it != chunks_.end()) return &it->second;
  if (!create) return static_cast<Chunk*>(nullptr);
  if (source_) {
    if (index * kChunkSize >= size_) return Errno(EFAULT);  // callers stop at EOF first
    Chunk c{reserved_off_ + static_cast<uint64_t>(index * kChunkSize), 0};
    PAL_TRY_ERRNO(FillLocked(index, c));
    return &chunks_.emplace(index, c).first->second;
  }
  // Allocate() hands out zero-filled (hole-punched) memory.
  ErrnoOr<uint64_t> off = mf_.Allocate(kChunkSize);
  if (!off.ok()) return Errno(ENOSPC);
  return &chunks_.emplace(index, Chunk{*off, 0}).first->second;
}

void FileMemory::MarkPresentLocked(Chunk& c, uint64_t bits) {
  const int64_t added = std::popcount(bits & ~c.present);
  if (added == 0) return;
  c.present |= bits;
  pages_ += added;
  if (pages_counter_) pages_counter_->fetch_add(added);
}

void FileMemory::DropLocked(int64_t lo, int64_t hi) {
  // One punch per run of chunks lying back to back in the MemoryFile (a
  // sequentially written file's usually do): a punch costs a syscall and a
  // walk of the range, whatever its length.
  uint64_t run_off = 0, run_len = 0;
  auto flush = [&] {
    // Punching the memfd also zaps the pages from every host mapping of
    // them: mappings read zeros afterwards, as after a punch on Linux.
    if (run_len > 0) mf_.Decommit(run_off, run_len);
    run_len = 0;
  };
  for (auto it = chunks_.lower_bound(lo / kChunkSize); it != chunks_.end() && it->first * kChunkSize < hi; ++it) {
    const int64_t base = it->first * kChunkSize;
    const int64_t a = std::max(lo, base), b = std::min(hi, base + kChunkSize);
    if (a >= b) continue;
    Chunk& c = it->second;
    const uint64_t bits = Bits((a - base) / kPageSize, (b - base) / kPageSize) & c.present;
    if (bits == 0) continue;
    const uint64_t mo = c.mf_off + static_cast<uint64_t>(a - base);
    if (run_len == 0 || run_off + run_len != mo) {
      flush();
      run_off = mo;
    }
    run_len += static_cast<uint64_t>(b - a);
    c.present &= ~bits;
    const int64_t gone = std::popcount(bits);
    pages_ -= gone;
    if (pages_counter_) pages_counter_->fetch_sub(gone);
  }
  flush();
}

void FileMemory::ZeroLocked(int64_t off, int64_t len) {
  while (len > 0) {
    const int64_t in = off % kChunkSize;
    const int64_t n = std::min(len, kChunkSize - in);
    auto it = chunks_.find(off / kChunkSize);
    if (it != chunks_.end()) std::memset(mf_.Pointer(it->second.mf_off + static_cast<uint64_t>(in)), 0, n);
    off += n;
    len -= n;
  }
}

void FileMemory::ReleaseTailLocked(int64_t end) {
  if (ever_mapped_) return;
  FreeChunksLocked(chunks_.lower_bound((end + kChunkSize - 1) / kChunkSize));
}

void FileMemory::FreeChunksLocked(std::map<int64_t, Chunk>::iterator first) {
  // One Free (one punch) per run of chunks back to back in the MemoryFile,
  // as in DropLocked.
  uint64_t run_off = 0, run_len = 0;
  for (auto it = first; it != chunks_.end();) {
    const int64_t gone = std::popcount(it->second.present);
    pages_ -= gone;
    if (pages_counter_) pages_counter_->fetch_sub(gone);
    if (run_len == 0 || run_off + run_len != it->second.mf_off) {
      if (run_len > 0) mf_.Free(run_off, run_len);
      run_off = it->second.mf_off;
      run_len = 0;
    }
    run_len += kChunkSize;
    it = chunks_.erase(it);
  }
  if (run_len > 0) mf_.Free(run_off, run_len);
}

ErrnoOr<int64_t> FileMemory::Read(std::span<uint8_t> dst, int64_t off) {
  if (off < 0) return Errno(EINVAL);
  std::lock_guard<std::mutex> l(mu_);
  if (off >= size_) return int64_t{0};
  const int64_t total = std::min<int64_t>(static_cast<int64_t>(dst.size()), size_ - off);
  int64_t done = 0;
  while (done < total) {
    const int64_t pos = off + done;
    const int64_t in = pos % kChunkSize;
    const int64_t n = std::min(total - done, kChunkSize - in);
    // An immutable cache reads the chunk in; elsewhere a missing chunk is
    // a hole.
    ErrnoOr<Chunk*> c = ChunkLocked(pos / kChunkSize, immutable());
    if (!c.ok()) {
      if (done > 0) break;
      return Errno(EIO);
    }
    if (*c != nullptr) {
      // Pages not present are memfd holes and read as zeros already.
      const uint64_t mo = (*c)->mf_off + static_cast<uint64_t>(in);
      if (!HostRead(mf_.fd(), dst.data() + done, n, mo)) {
        if (done > 0) break;
        return Errno(EIO);
      }
    } else {
      std::memset(dst.data() + done, 0, n);
    }
    done += n;
  }
  return done;
}

ErrnoOr<int64_t> FileMemory::Write(std::span<const uint8_t> src, int64_t off, bool append, int64_t* end) {
  const struct iovec v{const_cast<uint8_t*>(src.data()), src.size()};
  return WriteV({&v, 1}, off, append, end);
}

ErrnoOr<int64_t> FileMemory::WriteV(std::span<const struct iovec> src, int64_t off, bool append, int64_t* end) {
  if (immutable()) return Errno(EROFS);
  std::lock_guard<std::mutex> l(mu_);
  if (append) off = size_;
  if (off < 0) return Errno(EINVAL);
  int64_t total = 0;
  for (const struct iovec& v : src) total += static_cast<int64_t>(v.iov_len);
  if (total == 0) {
    *end = off;
    return int64_t{0};
  }
  if (off >= kMaxFileSize) return Errno(EFBIG);
  total = std::min(total, kMaxFileSize - off);  // a short write up to the limit, as Linux
  // One pwrite per run of chunks that lie back to back in the MemoryFile
  // (those of a file written sequentially usually do).
  struct Piece {
    Chunk* chunk;
    uint64_t bits;
  };
  std::vector<Piece> pieces;
  int64_t done = 0;
  while (done < total) {
    int64_t run_len = 0;
    uint64_t run_mo = 0;
    pieces.clear();
    while (done + run_len < total) {
      const int64_t pos = off + done + run_len;
      const int64_t in = pos % kChunkSize;
      const int64_t n = std::min(total - done - run_len, kChunkSize - in);
      ErrnoOr<Chunk*> c = ChunkLocked(pos / kChunkSize, true);
      if (!c.ok()) break;
      const uint64_t mo = (*c)->mf_off + static_cast<uint64_t>(in);
      if (run_len > 0 && mo != run_mo + static_cast<uint64_t>(run_len)) break;
      if (run_len == 0) run_mo = mo;
      pieces.push_back({*c, Bits(in / kPageSize, (in + n + kPageSize - 1) / kPageSize)});
      run_len += n;
    }
    // Nothing to write: the MemoryFile is full (a short write, as a full
    // tmpfs gives, or ENOSPC); a failed pwrite is the host out of memory.
    if (run_len == 0 || !HostWriteV(mf_.fd(), src, static_cast<uint64_t>(done), run_len, run_mo)) {
      if (done > 0) break;
      return Errno(ENOSPC);
    }
    for (const Piece& p : pieces) MarkPresentLocked(*p.chunk, p.bits);
    done += run_len;
  }
  size_ = std::max(size_, off + done);
  *end = off + done;
  return done;
}

int64_t FileMemory::Size() {
  std::lock_guard<std::mutex> l(mu_);
  return size_;
}

int64_t FileMemory::Pages() {
  std::lock_guard<std::mutex> l(mu_);
  return pages_;
}

Errno FileMemory::Truncate(int64_t size) {
  if (immutable()) return Errno(EROFS);
  if (size < 0) return Errno(EINVAL);
  int64_t old;
  std::vector<std::shared_ptr<FileMapper>> mappers;
  {
    std::lock_guard<std::mutex> l(mu_);
    old = size_;
    size_ = size;
    if (size >= old) return Errno::Ok();
    // Whole pages past the new end go; the rest of the last page is
    // zeroed, so a later extension reads zeros.
    const int64_t keep = PageUp(size);
    // Chunks wholly past the end are freed by ReleaseTailLocked (which
    // punches them) unless the file was ever mapped: decommitting them
    // here first would punch them twice.
    const int64_t drop_end =
        ever_mapped_ || size > kMaxFileSize - kChunkSize
            ? PageUp(old)
            : std::min(PageUp(old), (size + kChunkSize - 1) / kChunkSize * kChunkSize);
    DropLocked(keep, drop_end);
    if (size % kPageSize) ZeroLocked(size, keep - size);
    ReleaseTailLocked(size);
    // Snapshot the live mappers; forget the dead ones.
    std::erase_if(mappers_, [&](const std::weak_ptr<FileMapper>& w) {
      auto m = w.lock();
      if (!m) return true;
      mappers.push_back(std::move(m));
      return false;
    });
  }
  // Outside mu_: mappers take their own (outer) locks. A fault racing with
  // this sees the new size already and raises SIGBUS by itself.
  for (auto& m : mappers) m->Invalidate(*this, PageUp(size), PageUp(old));
  return Errno::Ok();
}

ErrnoOr<int64_t> FileMemory::SeekDataOrHole(int64_t off, bool hole) {
  std::lock_guard<std::mutex> l(mu_);
  if (off < 0 || off >= size_) return Errno(ENXIO);
  auto present = [&](int64_t page) {
    auto it = chunks_.find(page / kChunkPages);
    return it != chunks_.end() && ((it->second.present >> (page % kChunkPages)) & 1);
  };
  int64_t page = off / kPageSize;
  const int64_t end_page = (size_ + kPageSize - 1) / kPageSize;
  if (!hole) {
    if (present(page)) return off;
    // The next present page: walk chunks from page's on.
    for (auto it = chunks_.lower_bound(page / kChunkPages); it != chunks_.end(); ++it) {
      uint64_t bits = it->second.present;
      const int64_t base = it->first * kChunkPages;
      if (base < page) bits &= ~Bits(0, page - base);
      if (bits == 0) continue;
      const int64_t p = base + std::countr_zero(bits);
      if (p >= end_page) break;
      return p * kPageSize;
    }
    return Errno(ENXIO);
  }
  if (!present(page)) return off;
  while (page + 1 < end_page && present(page + 1)) page++;
  return std::min(size_, (page + 1) * kPageSize);  // end of file counts as a hole
}

Errno FileMemory::Allocate(int mode, int64_t off, int64_t len, bool* changed) {
  if (immutable()) return Errno(EROFS);
  *changed = false;
  int64_t end;
  if (off < 0 || len <= 0) return Errno(EINVAL);
  if (__builtin_add_overflow(off, len, &end)) return Errno(EFBIG);
  std::lock_guard<std::mutex> l(mu_);
  if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
    end = std::min(end, size_);
    if (off >= end) return Errno::Ok();
    // Whole pages go away; partial ones at either edge are zeroed.
    const int64_t first_full = PageUp(off), end_full = end / kPageSize * kPageSize;
    if (first_full < end_full) {
      ZeroLocked(off, first_full - off);
      DropLocked(first_full, end_full);
      ZeroLocked(end_full, end - end_full);
    } else {
      ZeroLocked(off, end - off);
    }
    *changed = true;
    return Errno::Ok();
  }
  if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE) return Errno(EOPNOTSUPP);
  for (int64_t cur = off / kPageSize * kPageSize; cur < end;) {
    const int64_t in = cur % kChunkSize;
    const int64_t n = std::min(end - cur, kChunkSize - in);
    PAL_TRY(Chunk * c, ChunkLocked(cur / kChunkSize, true));
    MarkPresentLocked(*c, Bits(in / kPageSize, (in + n + kPageSize - 1) / kPageSize));
    cur += n;
  }
  if (mode == 0 && end > size_) {
    size_ = end;
    *changed = true;
  }
  return Errno::Ok();
}

void FileMemory::AddMapper(const std::shared_ptr<FileMapper>& m) {
  std::lock_guard<std::mutex> l(mu_);
  ever_mapped_ = true;
  for (auto it = mappers_.begin(); it != mappers_.end();) {
    auto live = it->lock();
    if (!live) {
      it = mappers_.erase(it);
      continue;
    }
    if (live == m) return;
    ++it;
  }
  mappers_.push_back(m);
}

}  // namespace palisade
