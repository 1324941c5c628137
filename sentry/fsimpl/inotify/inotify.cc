#include "sentry/fsimpl/inotify/inotify.h"

#include <sys/inotify.h>
#include <sys/ioctl.h>

#include <cstring>

#include "sentry/fsimpl/anon/anon_inode.h"
#include "sentry/kernel/task.h"

namespace palisade {

// One watch: the registry's FsWatch, pointing back at its instance.
class Inotify::Watch final : public vfs::FsWatch {
 public:
  Watch(std::weak_ptr<Inotify> owner, int wd, vfs::WatchKey key, uint32_t mask)
      : owner_(std::move(owner)), wd_(wd), key_(key), mask_(mask) {}
  void Event(uint32_t mask, uint32_t cookie, std::string_view name) override {
    if (auto o = owner_.lock()) o->OnEvent(this, mask, cookie, name);
  }
  int wd() const { return wd_; }
  const vfs::WatchKey& key() const { return key_; }

 private:
  std::weak_ptr<Inotify> owner_;
  const int wd_;
  const vfs::WatchKey key_;
  uint32_t mask_;
  friend class Inotify;
};

size_t Inotify::Event::Size() const {
  size_t len = name.empty() ? 0 : (name.size() + 1 + 15) / 16 * 16;
  return sizeof(struct inotify_event) + len;
}

std::shared_ptr<Inotify> Inotify::Create(int flags) { return std::shared_ptr<Inotify>(new Inotify(flags)); }

Inotify::Inotify(int flags) : FileDescription(O_RDONLY | (flags & IN_NONBLOCK ? O_NONBLOCK : 0)) {}

Inotify::~Inotify() {
  for (auto& [wd, w] : watches_) vfs::RemoveFsWatch(w->key(), w.get());
}

ErrnoOr<int> Inotify::AddWatch(Inode& inode, uint32_t mask) {
  PAL_TRY(vfs::WatchKey key, vfs::WatchKeyOf(inode));
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [wd, w] : watches_) {
    if (w->key() != key) continue;
    if (mask & IN_MASK_CREATE) return Errno(EEXIST);
    w->mask_ = (mask & IN_MASK_ADD) ? (w->mask_ | mask) : mask;
    w->mask_ &= ~uint32_t(IN_MASK_ADD);
    return wd;
  }
  if (watches_.size() >= kMaxWatches) return Errno(ENOSPC);
  int wd = next_wd_++;
  auto w = std::make_shared<Watch>(std::static_pointer_cast<Inotify>(shared_from_this()), wd, key,
                                   mask & ~uint32_t(IN_MASK_ADD | IN_MASK_CREATE));
  watches_[wd] = w;
  vfs::AddFsWatch(key, w);
  return wd;
}

void Inotify::RemoveWatchLocked(std::map<int, std::shared_ptr<Watch>>::iterator it) {
  vfs::RemoveFsWatch(it->second->key(), it->second.get());
  watches_.erase(it);
}

Errno Inotify::RmWatch(int wd) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = watches_.find(wd);
    if (it == watches_.end()) return Errno(EINVAL);
    RemoveWatchLocked(it);
    QueueLocked(wd, IN_IGNORED, 0, "");
  }
  queue_.Notify(POLLIN | POLLRDNORM);
  return Errno::Ok();
}

bool Inotify::QueueLocked(int wd, uint32_t mask, uint32_t cookie, std::string_view name) {
  if (!events_.empty()) {
    const Event& last = events_.back();
    if (last.mask == IN_Q_OVERFLOW) return false;  // full: drop until read
    if (last.wd == wd && last.mask == mask && last.cookie == cookie && last.name == name) return false;
  }
  Event e{wd, mask, cookie, std::string(name)};
  if (events_.size() >= kMaxQueuedEvents) e = Event{-1, IN_Q_OVERFLOW, 0, ""};
  queued_bytes_ += e.Size();
  events_.push_back(std::move(e));
  return true;
}

void Inotify::OnEvent(Watch* w, uint32_t mask, uint32_t cookie, std::string_view name) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = watches_.find(w->wd());
    if (it == watches_.end() || it->second.get() != w) return;  // removed meanwhile
    uint32_t wmask = w->mask_;
    uint32_t event = mask & IN_ALL_EVENTS;
    // IN_EXCL_UNLINK and directory-only filtering are not modelled; the
    // event types a watch asked for decide.
    if (event & wmask) {
      wake = QueueLocked(w->wd(), mask & (IN_ALL_EVENTS | IN_ISDIR), cookie, name);
      if (wmask & IN_ONESHOT) {
        RemoveWatchLocked(it);
        wake |= QueueLocked(w->wd(), IN_IGNORED, 0, "");
        it = watches_.end();
      }
    }
    // The watched file is gone: the watch goes with it (even if it did not
    // ask for IN_DELETE_SELF).
    if ((event & IN_DELETE_SELF) && name.empty() && it != watches_.end()) {
      int wd = w->wd();
      RemoveWatchLocked(it);
      wake |= QueueLocked(wd, IN_IGNORED, 0, "");
    }
  }
  if (wake) queue_.Notify(POLLIN | POLLRDNORM);
}

ErrnoOr<int64_t> Inotify::Read(Task& t, std::span<uint8_t> dst) {
  std::lock_guard<std::mutex> l(mu_);
  if (events_.empty()) return Errno(EAGAIN);
  if (events_.front().Size() > dst.size()) return Errno(EINVAL);
  size_t n = 0;
  while (!events_.empty() && n + events_.front().Size() <= dst.size()) {
    const Event& e = events_.front();
    size_t size = e.Size();
    struct inotify_event h {};
    h.wd = e.wd;
    h.mask = e.mask;
    h.cookie = e.cookie;
    h.len = static_cast<uint32_t>(size - sizeof(h));
    memcpy(dst.data() + n, &h, sizeof(h));
    memset(dst.data() + n + sizeof(h), 0, h.len);
    memcpy(dst.data() + n + sizeof(h), e.name.data(), e.name.size());
    n += size;
    queued_bytes_ -= size;
    events_.pop_front();
  }
  return static_cast<int64_t>(n);
}

ErrnoOr<int64_t> Inotify::Ioctl(Task& t, uint64_t cmd, uint64_t arg) {
  if (cmd != FIONREAD) return Errno(ENOTTY);
  int n;
  {
    std::lock_guard<std::mutex> l(mu_);
    n = static_cast<int>(queued_bytes_);
  }
  PAL_TRY_ERRNO(t.CopyOutObj(arg, n));
  return int64_t{0};
}

ErrnoOr<struct stat> Inotify::Stat(Task& t) { return AnonInodeStat(); }

uint32_t Inotify::Readiness(uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  return events_.empty() ? 0 : (POLLIN | POLLRDNORM) & mask;
}

}  // namespace palisade
