// FileDescriptor: an owning, move-only wrapper for a file descriptor number.
//
// Tests open descriptors with the real syscalls (so failures show in the
// matchers) and then hand them to a FileDescriptor so they are closed even
// when an ASSERT returns early:
//
//   int raw = open(path.c_str(), O_RDONLY);
//   ASSERT_THAT(raw, SyscallSucceeds());
//   FileDescriptor fd(raw);
//   EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceeds());
#ifndef PALISADE_TESTS_SYSCALLS_UTIL_FILE_DESCRIPTOR_H_
#define PALISADE_TESTS_SYSCALLS_UTIL_FILE_DESCRIPTOR_H_

#include <unistd.h>

#include <utility>

namespace palisade::testing {

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.release()) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept {
    reset(o.release());
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  // Closes the owned descriptor (if any) and takes `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace palisade::testing

#endif  // PALISADE_TESTS_SYSCALLS_UTIL_FILE_DESCRIPTOR_H_
