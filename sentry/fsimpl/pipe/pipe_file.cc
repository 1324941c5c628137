#include "sentry/fsimpl/pipe/pipe_file.h"

#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/inode.h"
#include "sentry/vfs/vfs.h"

namespace palisade {
namespace {

constexpr uint32_t kReaderEvents = POLLIN | POLLRDNORM | POLLHUP;
constexpr uint32_t kWriterEvents = POLLOUT | POLLWRNORM | POLLERR;
constexpr int kCapSysResource = 24;  // CAP_SYS_RESOURCE: pipes past pipe-max-size

}  // namespace

PipeFile::PipeFile(std::shared_ptr<Pipe> pipe, int flags, uid_t uid, gid_t gid)
    : FileDescription(flags),
      pipe_(std::move(pipe)),
      reads_(readable()),
      writes_(writable()),
      uid_(uid),
      gid_(gid) {
  snapshot_ = pipe_->OpenEnds(reads_, writes_);
}

PipeFile::~PipeFile() {
  for (Waiter* w : waiters_) pipe_->queue().Unregister(w);
  pipe_->CloseEnds(reads_, writes_);
}

ErrnoOr<int64_t> PipeFile::Read(Task& t, std::span<uint8_t> dst) {
  if (!reads_) return Errno(EBADF);
  return pipe_->Read(dst);
}

ErrnoOr<int64_t> PipeFile::Write(Task& t, std::span<const uint8_t> src) {
  if (!writes_) return Errno(EBADF);
  ErrnoOr<int64_t> r = pipe_->Write(src, flags() & O_DIRECT);
  if (!r.ok() && r.error() == Errno(EPIPE)) SendSigpipe(t);
  return r;
}

ErrnoOr<struct stat> PipeFile::Stat(Task& t) {
  // A FIFO reports its filesystem inode; an anonymous pipe its pipefs one.
  if (dentry() && dentry()->inode()) {
    PAL_TRY(InodeAttr a, dentry()->inode()->GetAttr());
    return InodeAttrToStat(a);
  }
  struct stat st {};
  st.st_dev = kPipeFsDev;
  st.st_ino = pipe_->ino();
  st.st_mode = S_IFIFO | 0600;
  st.st_nlink = 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = Pipe::kPageSize;
  st.st_atim = st.st_mtim = st.st_ctim = pipe_->created();
  return st;
}

ErrnoOr<int64_t> PipeFile::Ioctl(Task& t, uint64_t cmd, uint64_t arg) {
  switch (cmd) {
    case FIONREAD: {
      int n = static_cast<int>(pipe_->Queued());
      PAL_TRY_ERRNO(t.CopyOutObj(arg, n));
      return int64_t{0};
    }
    // fcntl(2) (sys_open.cc) hands these two over under their own numbers,
    // with the argument by value; ENOTTY there means "not a pipe" (EBADF).
    case F_GETPIPE_SZ:
      return pipe_->Capacity();
    case F_SETPIPE_SZ:
      // The size is an unsigned int, as pipe_fcntl takes it.
      return pipe_->SetCapacity(static_cast<uint32_t>(arg), t.creds().HasCap(kCapSysResource));
    default:
      return Errno(ENOTTY);
  }
}

uint32_t PipeFile::Readiness(uint32_t mask) {
  uint32_t r = 0;
  if (reads_ && (mask & kReaderEvents)) r |= pipe_->ReaderReadiness(hup_version_);
  if (writes_ && (mask & kWriterEvents)) r |= pipe_->WriterReadiness();
  return r & mask;
}

void PipeFile::EventRegister(Waiter* w, uint32_t mask) {
  std::lock_guard<std::mutex> l(waiters_mu_);
  waiters_.push_back(w);
  pipe_->queue().Register(w, mask);
}

void PipeFile::EventUnregister(Waiter* w) {
  std::lock_guard<std::mutex> l(waiters_mu_);
  auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it == waiters_.end()) return;  // not ours: leave other files' entries alone
  waiters_.erase(it);
  pipe_->queue().Unregister(w);
}

std::string PipeFile::DisplayName() const {
  if (dentry()) {  // a FIFO: its path, as InodeFile shows one
    auto mns = vfs::GlobalMountNamespace();
    return vfs::PathString(vfs::PathOf(*this), mns ? mns->RootPath() : VirtualPath{});
  }
  return "pipe:[" + std::to_string(pipe_->ino()) + "]";
}

std::pair<FileRef, FileRef> MakePipe(int flags, uid_t uid, gid_t gid) {
  auto pipe = std::make_shared<Pipe>();
  int status = flags & (O_NONBLOCK | O_DIRECT);
  FileRef r = std::make_shared<PipeFile>(pipe, O_RDONLY | status, uid, gid);
  FileRef w = std::make_shared<PipeFile>(pipe, O_WRONLY | status, uid, gid);
  return {std::move(r), std::move(w)};
}

Pipe* PipeOf(FileDescription& f) {
  auto* pf = dynamic_cast<PipeFile*>(&f);
  return pf ? &pf->pipe() : nullptr;
}

ErrnoOr<int64_t> PipeGetSize(FileDescription& f) {
  Pipe* p = PipeOf(f);
  if (!p) return Errno(EBADF);
  return p->Capacity();
}

ErrnoOr<int64_t> PipeSetSize(FileDescription& f, uint32_t size, bool privileged) {
  Pipe* p = PipeOf(f);
  if (!p) return Errno(EBADF);
  return p->SetCapacity(size, privileged);
}

}  // namespace palisade
