// Open regular files of the overlay: the layer's own file does the I/O;
// this wrapper makes fstat, /proc/<pid>/fd and /proc/<pid>/maps show the
// overlay's view (stable st_ino, the sandbox path).
#include <sys/stat.h>

#include "sentry/fsimpl/overlay/overlay_inode.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/vfs/inode_file.h"

namespace palisade::overlay {
namespace {

class NamedMappable : public MappableFile {
 public:
  NamedMappable(std::shared_ptr<MappableFile> inner, std::string name, uint64_t dev, uint64_t ino)
      : inner_(std::move(inner)), name_(std::move(name)), dev_(dev), ino_(ino) {}
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) override { return inner_->ReadAt(dst, off); }
  ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off) override { return inner_->WriteAt(src, off); }
  int64_t Size() override { return inner_->Size(); }
  FileMemory* Memory() override { return inner_->Memory(); }
  FileMemory* ImmutablePages() override { return inner_->ImmutablePages(); }
  std::string Name() const override { return name_; }
  uint64_t Dev() const override { return dev_; }
  uint64_t Ino() const override { return ino_; }

 private:
  std::shared_ptr<MappableFile> inner_;
  std::string name_;
  uint64_t dev_, ino_;
};

class OverlayFile : public vfs::InodeFile {
 public:
  OverlayFile(std::shared_ptr<OverlayInode> inode, FileRef inner)
      : vfs::InodeFile(inode, inner->flags()), inner_(std::move(inner)) {}

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override { return inner_->Read(t, dst); }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override {
    SyncFlags();
    return inner_->Write(t, src);
  }
  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override { return inner_->PRead(t, dst, off); }
  ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off) override {
    SyncFlags();
    return inner_->PWrite(t, src, off);
  }
  bool WritesViews() const override { return inner_->WritesViews(); }
  ErrnoOr<int64_t> WriteViews(Task& t, std::span<const struct iovec> src, int64_t off) override {
    SyncFlags();
    return inner_->WriteViews(t, src, off);
  }
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override { return inner_->Seek(t, off, whence); }
  Errno Truncate(Task& t, int64_t size) override { return inner_->Truncate(t, size); }
  Errno Sync(Task& t) override { return inner_->Sync(t); }
  Errno Allocate(Task& t, int mode, int64_t off, int64_t len) override { return inner_->Allocate(t, mode, off, len); }
  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override { return inner_->Ioctl(t, cmd, arg); }
  uint32_t Readiness(uint32_t mask) override { return inner_->Readiness(mask); }
  std::shared_ptr<MappableFile> Mappable() override {
    std::shared_ptr<MappableFile> m = inner_->Mappable();
    if (!m) return nullptr;
    auto a = inode_->GetAttr();
    return std::make_shared<NamedMappable>(std::move(m), DisplayName(), a.ok() ? a->dev : 0, a.ok() ? a->ino : 0);
  }

 private:
  // F_SETFL changes this description's status flags; the layer's file
  // must see them too (O_APPEND above all).
  void SyncFlags() {
    if (inner_->flags() != flags()) inner_->set_status_flags(flags());
  }
  FileRef inner_;
};

}  // namespace

FileRef WrapFile(std::shared_ptr<OverlayInode> inode, FileRef inner) {
  if (inode->type() != S_IFREG) return inner;  // FIFOs, devices: the layer's own
  return std::make_shared<OverlayFile>(std::move(inode), std::move(inner));
}

}  // namespace palisade::overlay
