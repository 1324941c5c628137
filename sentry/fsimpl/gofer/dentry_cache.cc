#include "sentry/fsimpl/gofer/dentry_cache.h"

namespace palisade::gofer {

std::optional<ErrnoOr<InodeRef>> DentryCache::Find(uint64_t dir_fid, std::string_view name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = index_.find(Key(dir_fid, std::string(name)));
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  const InodeRef& inode = it->second->inode;
  if (!inode) return ErrnoOr<InodeRef>(Errno(ENOENT));
  return ErrnoOr<InodeRef>(inode);
}

void DentryCache::Insert(uint64_t dir_fid, std::string_view name, const ErrnoOr<InodeRef>& result) {
  if (capacity_ == 0) return;
  InodeRef inode;
  if (result.ok()) {
    inode = *result;
    if (!inode) return;
  } else if (result.error().value() != ENOENT) {
    return;  // EIO, EACCES...: ask again next time
  }
  // Dropped after the lock: the last reference to an inode releases its fid.
  InodeRef evicted;
  std::lock_guard<std::mutex> l(mu_);
  Key key(dir_fid, std::string(name));
  if (auto it = index_.find(key); it != index_.end()) {
    evicted = std::move(it->second->inode);
    it->second->inode = std::move(inode);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, std::move(inode)});
  index_.emplace(std::move(key), lru_.begin());
  if (lru_.size() > capacity_) {
    evicted = std::move(lru_.back().inode);
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void DentryCache::Clear() {
  std::list<Entry> dropped;  // destroyed after the lock, as in Insert
  std::lock_guard<std::mutex> l(mu_);
  index_.clear();
  dropped.swap(lru_);
}

size_t DentryCache::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return lru_.size();
}

}  // namespace palisade::gofer
