// Data transfer on file descriptors: read/write and their positional and
// vectored forms, lseek, sendfile and copy_file_range. All of them funnel
// into DoRead/DoWrite, which move at most kMaxRwCount bytes through a
// bounce buffer of at most kChunk bytes (writes to tmpfs copy straight
// from app memory instead), and let BlockingIo own the
// blocking/EINTR/restart rules. A transfer that fails after moving some
// bytes returns the count, as Linux does.
#include <sys/inotify.h>
#include <sys/uio.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "sentry/syscalls/blocking_io.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/iovec.h"
#include "sentry/syscalls/rlimit_checks.h"
#include "sentry/syscalls/sys_file_util.h"
#include "sentry/vfs/fsnotify.h"

namespace palisade::sys {

namespace {

constexpr size_t kChunk = 1 << 20;
// preadv2/pwritev2 flags we know (RWF_HIPRI/DSYNC/SYNC are hints here).
constexpr int kRwfKnown = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;

// Walks a list of app buffers while bytes are copied to or from them.
class SegCursor {
 public:
  explicit SegCursor(const std::vector<Seg>& segs) : segs_(segs) {}
  Errno CopyOut(Task& t, const uint8_t* src, size_t n) { return Move(t, const_cast<uint8_t*>(src), n, true); }
  Errno CopyIn(Task& t, uint8_t* dst, size_t n) { return Move(t, dst, n, false); }
  // Bytes the last CopyOut/CopyIn moved before it stopped (all of them on
  // success): readv(2) returns what was copied before a fault.
  size_t last_moved() const { return last_moved_; }

 private:
  Errno Move(Task& t, uint8_t* buf, size_t n, bool out) {
    last_moved_ = 0;
    while (n > 0 && i_ < segs_.size()) {
      size_t take = std::min<uint64_t>(n, segs_[i_].len - off_);
      uint64_t addr = segs_[i_].base + off_;
      PAL_TRY_ERRNO(out ? t.CopyOut(addr, buf, take) : t.CopyIn(addr, buf, take));
      last_moved_ += take;
      buf += take;
      n -= take;
      off_ += take;
      if (off_ == segs_[i_].len) {
        i_++;
        off_ = 0;
      }
    }
    return Errno::Ok();
  }
  const std::vector<Seg>& segs_;
  size_t last_moved_ = 0;
  size_t i_ = 0;
  uint64_t off_ = 0;
};

uint64_t IovBytes(std::span<const struct iovec> v) {
  uint64_t n = 0;
  for (const struct iovec& i : v) n += i.iov_len;
  return n;
}

// readv(2)'s iovec array: EINVAL for a bad count, then CopyInIovecs's rules.
ErrnoOr<std::vector<Seg>> CopyInReadvIovecs(Task& t, uint64_t addr, int64_t cnt) {
  if (cnt < 0 || cnt > kIovMax) return Errno(EINVAL);
  return CopyInIovecs(t, addr, static_cast<uint64_t>(cnt));
}

// pos < 0: at (and advancing) the file offset; else at pos.
// nowait: RWF_NOWAIT, never block (EAGAIN instead).
ErrnoOr<int64_t> DoRead(Task& t, FileDescription& f, const std::vector<Seg>& segs, int64_t pos, bool nowait) {
  const uint64_t total = IovTotal(segs);
  std::unique_ptr<uint8_t[]> buf(new uint8_t[std::max<uint64_t>(1, std::min<uint64_t>(total, kChunk))]);
  SegCursor cur(segs);
  int64_t done = 0;
  do {
    size_t want = std::min<uint64_t>(total - done, kChunk);
    std::span<uint8_t> span(buf.get(), want);
    auto op = [&]() -> ErrnoOr<int64_t> { return pos < 0 ? f.Read(t, span) : f.PRead(t, span, pos + done); };
    // Only the first chunk may wait: a read returns what is available.
    ErrnoOr<int64_t> r = (done == 0 && !nowait) ? BlockingIo(t, f, POLLIN, op) : op();
    if (!r.ok()) {
      if (done > 0) break;
      return r.error();
    }
    int64_t n = *r;
    if (Errno e = cur.CopyOut(t, buf.get(), static_cast<size_t>(n)); !e.ok()) {
      // Give the uncopied bytes back to a seekable file, as Linux never
      // consumes what it could not copy; a stream loses them.
      const int64_t copied = static_cast<int64_t>(cur.last_moved());
      if (pos < 0) (void)f.Seek(t, copied - n, SEEK_CUR);
      done += copied;
      if (done == 0) return e;
      break;
    }
    done += n;
    if (static_cast<size_t>(n) < want) break;
  } while (static_cast<uint64_t>(done) < total);
  if (done > 0) vfs::NotifyFile(f, IN_ACCESS);
  return done;
}

// A file that takes host memory (tmpfs) is handed the sentry's views of
// the app buffers: the bytes are copied once, as a native write copies
// them, where the bounce buffer costs a second copy. Such writes never
// block, so nowait and O_NONBLOCK change nothing. An unreadable byte ends
// the write just before it (EFAULT if it is the first), as Linux's copy
// from user memory does.
ErrnoOr<int64_t> DoWriteViews(Task& t, FileDescription& f, const std::vector<Seg>& segs, uint64_t total,
                              int64_t pos) {
  std::vector<struct iovec> app;
  app.reserve(segs.size());
  for (const Seg& s : segs) {
    const uint64_t n = std::min(s.len, total);
    app.push_back({reinterpret_cast<void*>(s.base), n});
    total -= n;
  }
  return t.mm().WithReadableViews(app, [&](std::span<const struct iovec> views, bool faulted) -> ErrnoOr<int64_t> {
    if (faulted && IovBytes(views) == 0) return Errno(EFAULT);
    return f.WriteViews(t, views, pos);
  });
}

ErrnoOr<int64_t> DoWrite(Task& t, FileDescription& f, const std::vector<Seg>& segs, int64_t pos, bool nowait) {
  PAL_TRY(const uint64_t total, LimitFileWrite(t, f, pos, IovTotal(segs)));
  if (f.WritesViews()) {
    PAL_TRY(int64_t n, DoWriteViews(t, f, segs, total, pos));
    if (n > 0) vfs::NotifyFile(f, IN_MODIFY);
    return n;
  }
  std::unique_ptr<uint8_t[]> buf(new uint8_t[std::max<uint64_t>(1, std::min<uint64_t>(total, kChunk))]);
  SegCursor cur(segs);
  int64_t done = 0;
  do {
    size_t want = std::min<uint64_t>(total - done, kChunk);
    bool fault = false;
    if (Errno e = cur.CopyIn(t, buf.get(), want); !e.ok()) {
      // Write what was copied before the fault, then stop.
      want = cur.last_moved();
      if (want == 0) {
        if (done == 0) return e;
        break;
      }
      fault = true;
    }
    // A blocking write keeps going until the whole chunk is written (as a
    // pipe write to a slow reader does on Linux); it stops short only on an
    // error or a signal after some bytes moved. O_NONBLOCK and RWF_NOWAIT
    // return the partial count at once.
    const bool blocking = !nowait && !(f.flags() & O_NONBLOCK);
    size_t chunk_done = 0;
    do {  // at least once: a zero-length write still reaches the file (/dev/full: ENOSPC)
      std::span<const uint8_t> span(buf.get() + chunk_done, want - chunk_done);
      const int64_t at = pos + done;
      auto op = [&]() -> ErrnoOr<int64_t> { return pos < 0 ? f.Write(t, span) : f.PWrite(t, span, at); };
      ErrnoOr<int64_t> r = nowait ? op() : BlockingIo(t, f, POLLOUT, op);
      if (!r.ok()) {
        if (done > 0) return done;
        return r.error();
      }
      done += *r;
      chunk_done += static_cast<size_t>(*r);
      if (*r == 0 || !blocking) break;
    } while (chunk_done < want);
    if (chunk_done < want || fault) break;
  } while (static_cast<uint64_t>(done) < total);
  if (done > 0) vfs::NotifyFile(f, IN_MODIFY);
  return done;
}

ErrnoOr<int64_t> ReadVec(Task& t, const SyscallArgs& a, int64_t pos, int flags) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kRead));
  if (flags & ~kRwfKnown) return Errno(EOPNOTSUPP);
  PAL_TRY(std::vector<Seg> segs, CopyInReadvIovecs(t, a[1].Ptr(), a[2].Int64()));
  return DoRead(t, *f, segs, pos, flags & RWF_NOWAIT);
}

ErrnoOr<int64_t> WriteVec(Task& t, const SyscallArgs& a, int64_t pos, int flags) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kWrite));
  if (flags & ~kRwfKnown) return Errno(EOPNOTSUPP);
  PAL_TRY(std::vector<Seg> segs, CopyInReadvIovecs(t, a[1].Ptr(), a[2].Int64()));
  if ((flags & RWF_APPEND) && !(f->flags() & O_APPEND)) {
    // Append for this call only: write at the end, and move the offset
    // there too when the call uses it (pos == -1).
    auto st = f->Stat(t);
    if (st.ok() && S_ISREG(st->st_mode)) {
      PAL_TRY(int64_t n, DoWrite(t, *f, segs, st->st_size, flags & RWF_NOWAIT));
      if (pos < 0) (void)f->Seek(t, st->st_size + n, SEEK_SET);
      return n;
    }
  }
  return DoWrite(t, *f, segs, pos, flags & RWF_NOWAIT);
}

// Copies up to len bytes from in (at *in_off, or its offset if null) to
// out (at *out_off, or its offset), for sendfile and copy_file_range.
ErrnoOr<int64_t> Splice(Task& t, FileDescription& in, int64_t* in_off, FileDescription& out, int64_t* out_off,
                        uint64_t len) {
  len = std::min<uint64_t>(len, kMaxRwCount);
  PAL_TRY(len, LimitFileWrite(t, out, out_off ? *out_off : -1, len));
  std::unique_ptr<uint8_t[]> buf(new uint8_t[std::max<uint64_t>(1, std::min<uint64_t>(len, kChunk))]);
  int64_t done = 0;
  while (static_cast<uint64_t>(done) < len) {
    size_t want = std::min<uint64_t>(len - done, kChunk);
    std::span<uint8_t> span(buf.get(), want);
    auto rd = [&]() -> ErrnoOr<int64_t> { return in_off ? in.PRead(t, span, *in_off) : in.Read(t, span); };
    ErrnoOr<int64_t> r = done == 0 ? BlockingIo(t, in, POLLIN, rd) : rd();
    if (!r.ok()) {
      if (done > 0) break;
      return r.error();
    }
    if (*r == 0) break;
    size_t got = static_cast<size_t>(*r);
    size_t put = 0;
    while (put < got) {
      std::span<const uint8_t> src(buf.get() + put, got - put);
      auto wr = [&]() -> ErrnoOr<int64_t> { return out_off ? out.PWrite(t, src, *out_off) : out.Write(t, src); };
      ErrnoOr<int64_t> w = BlockingIo(t, out, POLLOUT, wr);
      if (!w.ok() || *w == 0) {
        // Bytes read but not written go back to the input: its offset
        // (or *in_off) ends just after what was written.
        if (in_off) {
          *in_off += static_cast<int64_t>(put);
        } else {
          (void)in.Seek(t, -static_cast<int64_t>(got - put), SEEK_CUR);
        }
        int64_t moved = done + static_cast<int64_t>(put);
        if (moved > 0 || w.ok()) return moved;
        return w.error();
      }
      put += static_cast<size_t>(*w);
      if (out_off) *out_off += *w;
    }
    if (in_off) *in_off += static_cast<int64_t>(got);
    done += static_cast<int64_t>(got);
    if (got < want) break;
  }
  return done;
}

}  // namespace

SyscallResult Read(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kRead));
  std::vector<Seg> segs{{a[1].Ptr(), std::min<uint64_t>(a[2].Size(), kMaxRwCount)}};
  return DoRead(t, *f, segs, -1, false);
}

SyscallResult Write(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kWrite));
  std::vector<Seg> segs{{a[1].Ptr(), std::min<uint64_t>(a[2].Size(), kMaxRwCount)}};
  return DoWrite(t, *f, segs, -1, false);
}

SyscallResult Pread64(Task& t, const SyscallArgs& a) {
  if (a[3].Int64() < 0) return Errno(EINVAL);
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kRead));
  std::vector<Seg> segs{{a[1].Ptr(), std::min<uint64_t>(a[2].Size(), kMaxRwCount)}};
  return DoRead(t, *f, segs, a[3].Int64(), false);
}

SyscallResult Pwrite64(Task& t, const SyscallArgs& a) {
  if (a[3].Int64() < 0) return Errno(EINVAL);
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kWrite));
  std::vector<Seg> segs{{a[1].Ptr(), std::min<uint64_t>(a[2].Size(), kMaxRwCount)}};
  return DoWrite(t, *f, segs, a[3].Int64(), false);
}

SyscallResult Readv(Task& t, const SyscallArgs& a) { return ReadVec(t, a, -1, 0); }
SyscallResult Writev(Task& t, const SyscallArgs& a) { return WriteVec(t, a, -1, 0); }

// preadv/pwritev: on x86-64 the whole offset is in pos_l (a[3]).
SyscallResult Preadv(Task& t, const SyscallArgs& a) {
  if (a[3].Int64() < 0) return Errno(EINVAL);
  return ReadVec(t, a, a[3].Int64(), 0);
}

SyscallResult Pwritev(Task& t, const SyscallArgs& a) {
  if (a[3].Int64() < 0) return Errno(EINVAL);
  return WriteVec(t, a, a[3].Int64(), 0);
}

// preadv2/pwritev2: offset -1 means the file offset.
SyscallResult Preadv2(Task& t, const SyscallArgs& a) {
  if (a[3].Int64() < -1) return Errno(EINVAL);
  return ReadVec(t, a, a[3].Int64(), a[5].Int());
}

SyscallResult Pwritev2(Task& t, const SyscallArgs& a) {
  if (a[3].Int64() < -1) return Errno(EINVAL);
  return WriteVec(t, a, a[3].Int64(), a[5].Int());
}

SyscallResult Lseek(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef f, GetFile(t, a[0].Fd(), FileNeed::kNotPath));
  int whence = a[2].Int();
  if (whence < SEEK_SET || whence > SEEK_HOLE) return Errno(EINVAL);
  return f->Seek(t, a[1].Int64(), whence);
}

SyscallResult Sendfile(Task& t, const SyscallArgs& a) {
  PAL_TRY(FileRef in, GetFile(t, a[1].Fd(), FileNeed::kRead));
  PAL_TRY(FileRef out, GetFile(t, a[0].Fd(), FileNeed::kWrite));
  if (out->flags() & O_APPEND) return Errno(EINVAL);
  uint64_t off_addr = a[2].Ptr();
  int64_t off = 0;
  if (off_addr) {
    PAL_TRY_ERRNO(t.CopyInObj(off_addr, off));
    if (off < 0) return Errno(EINVAL);
  }
  if (S_ISDIR(FileMode(t, *in))) return Errno(EINVAL);
  PAL_TRY(int64_t n, Splice(t, *in, off_addr ? &off : nullptr, *out, nullptr, a[3].Size()));
  if (off_addr) PAL_TRY_ERRNO(t.CopyOutObj(off_addr, off));
  return n;
}

SyscallResult CopyFileRange(Task& t, const SyscallArgs& a) {
  if (a[5].Uint() != 0) return Errno(EINVAL);
  PAL_TRY(FileRef in, GetFile(t, a[0].Fd(), FileNeed::kRead));
  PAL_TRY(FileRef out, GetFile(t, a[2].Fd(), FileNeed::kWrite));
  if (out->flags() & O_APPEND) return Errno(EBADF);
  PAL_TRY(struct stat ist, in->Stat(t));
  PAL_TRY(struct stat ost, out->Stat(t));
  if (S_ISDIR(ist.st_mode) || S_ISDIR(ost.st_mode)) return Errno(EISDIR);
  if (!S_ISREG(ist.st_mode) || !S_ISREG(ost.st_mode)) return Errno(EINVAL);
  // Explicit offsets, or the files' own (read now, written back after).
  int64_t ioff, ooff;
  if (a[1].Ptr()) {
    PAL_TRY_ERRNO(t.CopyInObj(a[1].Ptr(), ioff));
  } else {
    PAL_TRY(ioff, in->Seek(t, 0, SEEK_CUR));
  }
  if (a[3].Ptr()) {
    PAL_TRY_ERRNO(t.CopyInObj(a[3].Ptr(), ooff));
  } else {
    PAL_TRY(ooff, out->Seek(t, 0, SEEK_CUR));
  }
  if (ioff < 0 || ooff < 0) return Errno(EINVAL);
  uint64_t len = std::min<uint64_t>(a[4].Size(), kMaxRwCount);
  if (len == 0) return int64_t{0};
  // Overlapping ranges of one file are refused, as Linux does.
  if (ist.st_dev == ost.st_dev && ist.st_ino == ost.st_ino && ioff < static_cast<int64_t>(ooff + len) &&
      ooff < static_cast<int64_t>(ioff + len)) {
    return Errno(EINVAL);
  }
  PAL_TRY(int64_t n, Splice(t, *in, &ioff, *out, &ooff, len));
  if (a[1].Ptr()) {
    PAL_TRY_ERRNO(t.CopyOutObj(a[1].Ptr(), ioff));
  } else {
    (void)in->Seek(t, ioff, SEEK_SET);
  }
  if (a[3].Ptr()) {
    PAL_TRY_ERRNO(t.CopyOutObj(a[3].Ptr(), ooff));
  } else {
    (void)out->Seek(t, ooff, SEEK_SET);
  }
  return n;
}

}  // namespace palisade::sys
