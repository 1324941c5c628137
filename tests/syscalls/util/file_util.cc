#include "tests/syscalls/util/file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/syscall_matchers.h"

namespace palisade::testing {

void Die(const std::string& what) {
  std::fprintf(stderr, "FATAL: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(2);
}

void DieErrno(const std::string& what) {
  Die(what + ": " + ErrnoName(errno));
}

void WriteFileOrDie(const std::string& path, std::string_view contents, mode_t mode) {
  FileDescriptor fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) DieErrno("open " + path);
  if (!WriteAll(fd.get(), contents)) DieErrno("write " + path);
}

std::string ReadFileOrDie(const std::string& path) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) DieErrno("open " + path);
  std::string out;
  if (!ReadAll(fd.get(), &out)) DieErrno("read " + path);
  return out;
}

bool ReadAll(int fd, std::string* out) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

size_t PageSize() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

void* BadPointer() {
  static void* const page = [] {
    void* p = mmap(nullptr, PageSize(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) DieErrno("mmap PROT_NONE page");
    return p;
  }();
  return page;
}

}  // namespace palisade::testing
