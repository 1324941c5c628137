#include "sentry/fsimpl/dev/mem_devices.h"

#include <sys/random.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sentry/mm/mappable_file.h"
#include "sentry/vfs/inode_file.h"

namespace palisade::dev {
namespace {

// /dev/zero's content for mmap: zero pages without end. Writes back from a
// MAP_SHARED mapping are dropped, as the device drops writes.
class ZeroMappable final : public MappableFile {
 public:
  ErrnoOr<int64_t> ReadAt(std::span<uint8_t> dst, int64_t off) override {
    memset(dst.data(), 0, dst.size());
    return static_cast<int64_t>(dst.size());
  }
  ErrnoOr<int64_t> WriteAt(std::span<const uint8_t> src, int64_t off) override {
    return static_cast<int64_t>(src.size());
  }
  int64_t Size() override { return INT64_MAX; }  // never SIGBUS
  std::string Name() const override { return "/dev/zero"; }
};

// Fills dst from the host's random pool. Large reads come back in pieces
// (getrandom caps each call at 32 MiB - 1), hence the loop.
ErrnoOr<int64_t> ReadRandom(std::span<uint8_t> dst) {
  size_t done = 0;
  while (done < dst.size()) {
    ssize_t n = getrandom(dst.data() + done, dst.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;  // a host signal to the sentry thread
      if (done > 0) break;
      return Errno::FromHost();
    }
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

class MemDeviceFile final : public vfs::InodeFile {
 public:
  MemDeviceFile(MemDevice which, InodeRef inode, int flags) : InodeFile(std::move(inode), flags), which_(which) {}

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override {
    switch (which_) {
      case MemDevice::kNull:
        return int64_t{0};
      case MemDevice::kZero:
      case MemDevice::kFull:
        memset(dst.data(), 0, dst.size());
        return static_cast<int64_t>(dst.size());
      case MemDevice::kRandom:
      case MemDevice::kURandom:
        return ReadRandom(dst);
    }
    return Errno(EINVAL);
  }

  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override {
    if (which_ == MemDevice::kFull) return Errno(ENOSPC);
    return static_cast<int64_t>(src.size());
  }

  ErrnoOr<int64_t> PRead(Task& t, std::span<uint8_t> dst, int64_t off) override { return Read(t, dst); }
  ErrnoOr<int64_t> PWrite(Task& t, std::span<const uint8_t> src, int64_t off) override { return Write(t, src); }
  ErrnoOr<int64_t> Seek(Task& t, int64_t off, int whence) override { return int64_t{0}; }

  std::shared_ptr<MappableFile> Mappable() override {
    if (which_ != MemDevice::kZero) return nullptr;  // ENODEV, as Linux
    static const auto zero = std::make_shared<ZeroMappable>();
    return zero;
  }

 private:
  const MemDevice which_;
};

}  // namespace

ErrnoOr<FileRef> OpenMemDevice(MemDevice which, InodeRef inode, int flags) {
  return FileRef(std::make_shared<MemDeviceFile>(which, std::move(inode), flags));
}

}  // namespace palisade::dev
