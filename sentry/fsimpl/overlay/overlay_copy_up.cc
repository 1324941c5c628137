// Copy-up: the first change to a lower file gives it an upper twin (see
// overlay.h). Parents first, so the upper layer is always a tree.
#include <fcntl.h>
#include <sys/stat.h>

#include <vector>

#include "sentry/fsimpl/overlay/overlay_inode.h"
#include "sentry/mm/mappable_file.h"

namespace palisade::overlay {
namespace {

// Copies the bytes of a lower regular file. The sentry-internal open
// (no task) reads straight from the gofer's donated fd.
Errno CopyData(const InodeRef& from, const InodeRef& to) {
  PAL_TRY(FileRef src, from->Open(OpenRequest{.flags = O_RDONLY}));
  PAL_TRY(FileRef dst, to->Open(OpenRequest{.flags = O_WRONLY}));
  // Through the files' content interface: no Task needed.
  std::shared_ptr<MappableFile> in = src->Mappable();
  std::shared_ptr<MappableFile> out = dst->Mappable();
  if (!in || !out) return Errno(EIO);
  int64_t size = in->Size();
  SetAttrRequest grow;
  grow.mask = SetAttrRequest::kSize;
  grow.size = size;
  PAL_TRY_ERRNO(to->SetAttr(grow));  // write-back never grows a file
  std::vector<uint8_t> buf(64 * 1024);
  for (int64_t off = 0; off < size;) {
    PAL_TRY(int64_t n, in->ReadAt(std::span<uint8_t>(buf.data(), buf.size()), off));
    if (n == 0) break;
    PAL_TRY(int64_t w, out->WriteAt(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), off));
    if (w != n) return Errno(EIO);
    off += n;
  }
  return Errno::Ok();
}

}  // namespace

Errno OverlayInode::CopyUpLocked() {
  std::shared_ptr<OverlayInode> parent;
  std::string name;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (upper_) return Errno::Ok();
    parent = parent_;
    name = name_;
  }
  if (!parent) return Errno(EIO);  // the root always has its upper
  PAL_TRY_ERRNO(parent->CopyUpLocked());
  InodeRef pu = parent->upper();
  PAL_TRY(InodeAttr a, lower_->GetAttr());
  const Credentials root{};
  InodeRef made;
  // Another path (a hard link's other name) may have copied it up already.
  auto existing = pu->Lookup(name);
  if (existing.ok()) {
    PAL_TRY(InodeAttr ea, (*existing)->GetAttr());
    if (!IsWhiteout(ea) && (ea.mode & S_IFMT) == type_) made = *existing;
  }
  if (!made) {
    if (existing.ok()) PAL_TRY_ERRNO(pu->Unlink(name));  // a stale whiteout
    switch (type_) {
      case S_IFDIR: {
        PAL_TRY(made, pu->Mkdir(name, S_IFDIR | (a.mode & 07777), root));
        break;
      }
      case S_IFREG: {
        PAL_TRY(made, pu->Create(name, S_IFREG | 0600, root));
        Errno e = CopyData(lower_, made);
        if (!e.ok()) {
          (void)pu->Unlink(name);
          return e;
        }
        break;
      }
      case S_IFLNK: {
        PAL_TRY(std::string target, lower_->ReadLink());
        PAL_TRY(made, pu->Symlink(name, target, root));
        break;
      }
      default: {
        PAL_TRY(made, pu->Mknod(name, a.mode, a.rdev, root));
        break;
      }
    }
    SetAttrRequest attrs;
    attrs.mask = SetAttrRequest::kUid | SetAttrRequest::kGid | SetAttrRequest::kAtime | SetAttrRequest::kMtime;
    if (type_ != S_IFLNK) attrs.mask |= SetAttrRequest::kMode;
    attrs.mode = a.mode & 07777;
    attrs.uid = a.uid;
    attrs.gid = a.gid;
    attrs.atime = a.atime;
    attrs.mtime = a.mtime;
    PAL_TRY_ERRNO(made->SetAttr(attrs));
  }
  if (type_ != S_IFDIR) fs_->RecordCopyUp(made, lower_);
  std::lock_guard<std::mutex> l(mu_);
  upper_ = made;
  return Errno::Ok();
}

}  // namespace palisade::overlay
