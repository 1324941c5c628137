// Inotify: the file inotify_init(2) returns, an event queue fed by watches
// on files of the sentry's VFS (sentry/vfs/fsnotify.h is where the VFS
// reports changes).
//
//   auto in = Inotify::Create(IN_NONBLOCK);
//   PAL_TRY(int wd, in->AddWatch(dir_inode, IN_CREATE | IN_DELETE));
//   ... a mkdir in that directory ...
//   in->Read(t, buf);   // struct inotify_event {wd, IN_CREATE|IN_ISDIR, 0, len, "name"}
//
// Rules (inotify(7)): one watch per (instance, file): adding again returns
// the same wd and replaces the mask (IN_MASK_ADD: ORs it; IN_MASK_CREATE:
// EEXIST). Events are filtered by the watch's mask; IN_IGNORED,
// IN_Q_OVERFLOW and IN_UNMOUNT always pass. IN_ONESHOT removes the watch
// after one event; IN_DELETE_SELF and inotify_rm_watch remove it too, and
// each removal queues IN_IGNORED. An event identical to the last queued
// one (same wd, mask, cookie and name) is merged into it, as Linux does.
// Past kMaxQueuedEvents one IN_Q_OVERFLOW (wd -1) ends the queue.
// A read needs room for the first event (EINVAL) and returns as many whole
// events as fit; each name is NUL-padded to a multiple of 16 bytes. EAGAIN
// when empty. FIONREAD gives the bytes queued. POLLIN while not empty.
// Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sentry/vfs/file_description.h"
#include "sentry/vfs/fsnotify.h"

namespace palisade {

class Inotify final : public FileDescription {
 public:
  static constexpr size_t kMaxQueuedEvents = 16384;  // fs.inotify.max_queued_events
  static constexpr size_t kMaxWatches = 8192;        // fs.inotify.max_user_watches (ENOSPC)

  // flags: IN_NONBLOCK (IN_CLOEXEC is the fd table's).
  static std::shared_ptr<Inotify> Create(int flags);
  ~Inotify() override;

  // inotify_add_watch(2) on a resolved file (IN_ONLYDIR and IN_DONT_FOLLOW
  // were handled by the caller). mask: IN_* events and flags, validated.
  // Returns the watch descriptor. ENOSPC past kMaxWatches; EEXIST for
  // IN_MASK_CREATE on a watched file.
  ErrnoOr<int> AddWatch(Inode& inode, uint32_t mask);
  // inotify_rm_watch(2): EINVAL for an unknown wd.
  Errno RmWatch(int wd);

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override { return Errno(EINVAL); }
  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override;
  ErrnoOr<struct stat> Stat(Task& t) override;
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override { queue_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { queue_.Unregister(w); }
  std::string DisplayName() const override { return "anon_inode:inotify"; }

 private:
  class Watch;
  struct Event {
    int wd;
    uint32_t mask, cookie;
    std::string name;
    size_t Size() const;  // bytes in the read buffer
  };

  explicit Inotify(int flags);
  // From a Watch: filters, queues, handles oneshot and self-deletion.
  void OnEvent(Watch* w, uint32_t mask, uint32_t cookie, std::string_view name);
  // REQUIRE mu_ held. Returns true if a reader should be woken.
  bool QueueLocked(int wd, uint32_t mask, uint32_t cookie, std::string_view name);
  void RemoveWatchLocked(std::map<int, std::shared_ptr<Watch>>::iterator it);

  WaitQueue queue_;
  std::mutex mu_;
  std::map<int, std::shared_ptr<Watch>> watches_;  // by wd
  std::deque<Event> events_;
  size_t queued_bytes_ = 0;
  int next_wd_ = 1;
};

}  // namespace palisade
