// FdTable: a process's file descriptor numbers -> open files, with the
// close-on-exec bit per number. Shared between threads (CLONE_FILES),
// copied on fork. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base/errno.h"
#include "sentry/vfs/file_description.h"

namespace palisade {

class FdTable {
 public:
  // Lowest free fd >= min_fd; EMFILE past limit.
  ErrnoOr<int> Add(FileRef f, bool cloexec, int min_fd = 0, int limit = 1024 * 1024);
  // dup2/dup3 semantics: replaces fd (closing the old file).
  Errno Set(int fd, FileRef f, bool cloexec, int limit = 1024 * 1024);
  FileRef Get(int fd) const;  // nullptr if not open
  ErrnoOr<FileRef> GetOrEbadf(int fd) const;
  bool GetCloexec(int fd) const;
  Errno SetCloexec(int fd, bool cloexec);
  // Returns the removed file (callers may need to release locks) or EBADF.
  ErrnoOr<FileRef> Remove(int fd);
  void RemoveCloexec();  // at execve
  std::shared_ptr<FdTable> Fork() const;
  std::vector<int> Fds() const;
  void Clear();

 private:
  struct Slot {
    FileRef file;
    bool cloexec;
  };
  mutable std::mutex mu_;
  std::map<int, Slot> fds_;
};

}  // namespace palisade
