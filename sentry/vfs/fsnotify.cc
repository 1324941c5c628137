#include "sentry/vfs/fsnotify.h"

#include <sys/inotify.h>

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace palisade::vfs {
namespace {

struct Registry {
  std::mutex mu;
  std::map<WatchKey, std::vector<std::weak_ptr<FsWatch>>> watches;
};

// Leaked on purpose: files may be closed (IN_CLOSE_*) during static
// destruction, after a function-local static registry would be gone.
Registry& Reg() {
  static Registry* r = new Registry;
  return *r;
}

std::atomic<int> g_watch_count{0};
std::atomic<uint32_t> g_cookie{0};

bool Active() { return g_watch_count.load(std::memory_order_relaxed) > 0; }

std::vector<std::shared_ptr<FsWatch>> WatchersOf(const WatchKey& k) {
  std::vector<std::shared_ptr<FsWatch>> out;
  Registry& r = Reg();
  std::lock_guard<std::mutex> l(r.mu);
  auto it = r.watches.find(k);
  if (it == r.watches.end()) return out;
  auto& v = it->second;
  for (auto w = v.begin(); w != v.end();) {
    if (auto s = w->lock()) {
      out.push_back(std::move(s));
      ++w;
    } else {
      w = v.erase(w);
      g_watch_count--;
    }
  }
  if (v.empty()) r.watches.erase(it);
  return out;
}

void Deliver(Inode& inode, uint32_t mask, uint32_t cookie, std::string_view name) {
  auto key = WatchKeyOf(inode);
  if (!key.ok()) return;
  for (auto& w : WatchersOf(*key)) w->Event(mask, cookie, name);
}

}  // namespace

ErrnoOr<WatchKey> WatchKeyOf(Inode& inode) {
  PAL_TRY(InodeAttr a, inode.GetAttr());
  return WatchKey{inode.FsId(), a.dev, a.ino};
}

void AddFsWatch(const WatchKey& key, const std::shared_ptr<FsWatch>& w) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> l(r.mu);
  r.watches[key].push_back(w);
  g_watch_count++;
}

void RemoveFsWatch(const WatchKey& key, const FsWatch* w) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> l(r.mu);
  auto it = r.watches.find(key);
  if (it == r.watches.end()) return;
  auto& v = it->second;
  for (auto x = v.begin(); x != v.end(); ++x) {
    auto s = x->lock();
    if (!s || s.get() == w) {
      v.erase(x);
      g_watch_count--;
      break;
    }
  }
  if (v.empty()) r.watches.erase(it);
}

uint32_t NextMoveCookie() {
  uint32_t c = ++g_cookie;
  return c ? c : ++g_cookie;
}

void NotifyChild(Inode& dir, std::string_view name, uint32_t mask, uint32_t cookie) {
  if (!Active()) return;
  Deliver(dir, mask, cookie, name);
}

void NotifySelf(Inode& inode, uint32_t mask) {
  if (!Active()) return;
  if (!(mask & IN_ISDIR)) {
    auto a = inode.GetAttr();
    if (a.ok() && S_ISDIR(a->mode)) mask |= IN_ISDIR;
  }
  Deliver(inode, mask, 0, "");
}

void NotifyPath(const std::shared_ptr<Dentry>& d, uint32_t mask) {
  if (!Active() || !d || !d->inode()) return;
  auto a = d->inode()->GetAttr();
  if (a.ok() && S_ISDIR(a->mode)) mask |= IN_ISDIR;
  // The parent's copy first, as fsnotify_handle_event does.
  if (d->parent() && d->parent()->inode()) Deliver(*d->parent()->inode(), mask, 0, d->name());
  Deliver(*d->inode(), mask, 0, "");
}

void NotifyChange(const std::shared_ptr<Dentry>& d, uint32_t setattr_mask) {
  using R = SetAttrRequest;
  uint32_t m = 0;
  if (setattr_mask & (R::kUid | R::kGid | R::kMode)) m |= IN_ATTRIB;
  if (setattr_mask & R::kSize) m |= IN_MODIFY;
  // Both times: a utimes() call; one alone reads as an access or a write.
  if ((setattr_mask & (R::kAtime | R::kMtime)) == (R::kAtime | R::kMtime)) {
    m |= (setattr_mask & R::kSize) ? 0 : IN_ATTRIB;
  } else if (setattr_mask & R::kAtime) {
    m |= IN_ACCESS;
  } else if (setattr_mask & R::kMtime) {
    m |= IN_MODIFY;
  }
  // fsnotify_change sends the union as one event; inotify reports each
  // bit a watch asked for, so split it into single events in bit order.
  for (uint32_t bit = 1; bit; bit <<= 1) {
    if (m & bit) NotifyPath(d, bit);
  }
}

void NotifyFile(const FileDescription& f, uint32_t mask) {
  if (!Active()) return;
  NotifyPath(f.dentry(), mask);
}

}  // namespace palisade::vfs
