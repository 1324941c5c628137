#include "sentry/kernel/fd_table.h"

namespace palisade {

ErrnoOr<int> FdTable::Add(FileRef f, bool cloexec, int min_fd, int limit) {
  std::lock_guard<std::mutex> l(mu_);
  int fd = min_fd;
  for (auto it = fds_.lower_bound(min_fd); it != fds_.end() && it->first == fd; ++it) fd++;
  if (fd >= limit) return Errno(EMFILE);
  fds_[fd] = Slot{std::move(f), cloexec};
  return fd;
}

Errno FdTable::Set(int fd, FileRef f, bool cloexec, int limit) {
  if (fd < 0 || fd >= limit) return Errno(EBADF);
  FileRef old;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = fds_[fd];
    old = std::move(slot.file);
    slot = Slot{std::move(f), cloexec};
  }
  return Errno::Ok();  // old released outside the lock
}

FileRef FdTable::Get(int fd) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = fds_.find(fd);
  return it == fds_.end() ? nullptr : it->second.file;
}

ErrnoOr<FileRef> FdTable::GetOrEbadf(int fd) const {
  FileRef f = Get(fd);
  if (!f) return Errno(EBADF);
  return f;
}

bool FdTable::GetCloexec(int fd) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = fds_.find(fd);
  return it != fds_.end() && it->second.cloexec;
}

Errno FdTable::SetCloexec(int fd, bool cloexec) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Errno(EBADF);
  it->second.cloexec = cloexec;
  return Errno::Ok();
}

ErrnoOr<FileRef> FdTable::Remove(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Errno(EBADF);
  FileRef f = std::move(it->second.file);
  fds_.erase(it);
  return f;
}

void FdTable::RemoveCloexec() {
  std::vector<FileRef> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = fds_.begin(); it != fds_.end();) {
    if (it->second.cloexec) {
      dropped.push_back(std::move(it->second.file));
      it = fds_.erase(it);
    } else {
      ++it;
    }
  }
}

std::shared_ptr<FdTable> FdTable::Fork() const {
  auto t = std::make_shared<FdTable>();
  std::lock_guard<std::mutex> l(mu_);
  t->fds_ = fds_;
  return t;
}

std::vector<int> FdTable::Fds() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<int> v;
  for (auto& [fd, s] : fds_) v.push_back(fd);
  return v;
}

void FdTable::Clear() {
  std::map<int, Slot> old;
  std::lock_guard<std::mutex> l(mu_);
  old.swap(fds_);
}

}  // namespace palisade
