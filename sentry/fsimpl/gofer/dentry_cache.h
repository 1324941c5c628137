// A bounded LRU of name lookups on read-only gofer filesystems (the
// overlay's lower layer, ro bind mounts): (directory fid, name) -> the
// child inode, or ENOENT. Nothing in the sandbox can change such a tree,
// so a repeated path walk (stat in a loop, python's import search, a
// compiler's include path) costs no gofer round trip. Host-side changes
// to the rootfs while a container runs are not guaranteed to be seen, as
// with the cached attributes (docs/architecture.md).
//
// Positive entries hold the child inode, and so its gofer fid (one O_PATH
// fd in the gofer); the capacity bounds that. Fids are never reused by the
// server, so an entry of a directory that is gone can never match again;
// it just ages out.
//
//   DentryCache cache(4096);
//   if (auto hit = cache.Find(dir_fid, name)) return *hit;
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "base/errno.h"
#include "sentry/vfs/inode.h"

namespace palisade::gofer {

class DentryCache {
 public:
  explicit DentryCache(size_t capacity) : capacity_(capacity) {}

  // The cached result of looking name up in dir_fid: the inode or
  // Errno(ENOENT); nullopt when not cached.
  std::optional<ErrnoOr<InodeRef>> Find(uint64_t dir_fid, std::string_view name);
  // Remembers a lookup result; only inodes and ENOENT are cached.
  void Insert(uint64_t dir_fid, std::string_view name, const ErrnoOr<InodeRef>& result);
  size_t size() const;
  bool enabled() const { return capacity_ > 0; }
  // Drops every entry (and the inodes they hold).
  void Clear();

 private:
  using Key = std::pair<uint64_t, std::string>;
  struct Entry {
    Key key;
    InodeRef inode;  // null: negative entry (ENOENT)
  };

  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // guarded by mu_; most recent first
  absl::flat_hash_map<Key, std::list<Entry>::iterator> index_;  // guarded by mu_
};

}  // namespace palisade::gofer
