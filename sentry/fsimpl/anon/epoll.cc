#include "sentry/fsimpl/anon/epoll.h"

#include <sys/resource.h>

#include <algorithm>
#include <deque>

#include "sentry/fsimpl/anon/anon_inode.h"
#include "sentry/kernel/task.h"

namespace palisade {
namespace {

// Bits that steer epoll itself rather than name events.
constexpr uint32_t kControlBits = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;
// Event bits a host epoll can watch on a host fd for us.
constexpr uint32_t kHostEventBits = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLRDNORM |
                                    EPOLLWRNORM | EPOLLRDBAND | EPOLLWRBAND;
// host_ep_ data tags: interest ids (Waiter eventfds) vs host fd numbers.
constexpr uint64_t kHostFdTag = 1;

// Per-interest Waiters, shared by all instances. Recycled, never freed:
// when an interest's file dies, the file's destructor may still be about
// to notify or unregister the Waiter; a recycled one only takes a spurious
// wake-up, which every consumer re-checks anyway.
class WaiterPool {
 public:
  static WaiterPool& Get() {
    static WaiterPool* pool = new WaiterPool();  // leaked on purpose: see above
    return *pool;
  }
  ErrnoOr<Waiter*> Take() {
    std::lock_guard<std::mutex> l(mu_);
    if (free_.empty()) {
      // Waiter's constructor aborts when out of host fds; stop short.
      if (all_.size() >= budget_) return Errno(ENOSPC);
      all_.push_back(std::make_unique<Waiter>());
      return all_.back().get();
    }
    // The oldest free one: a just-retired Waiter may still be about to be
    // unregistered by its dying file, so it goes to the back of the line.
    Waiter* w = free_.front();
    free_.pop_front();
    w->Clear();
    return w;
  }
  void Give(Waiter* w) {
    std::lock_guard<std::mutex> l(mu_);
    free_.push_back(w);
  }

 private:
  WaiterPool() {
    struct rlimit rl {};
    getrlimit(RLIMIT_NOFILE, &rl);
    budget_ = std::max<size_t>(256, rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : rl.rlim_cur / 2);
  }
  std::mutex mu_;
  std::vector<std::unique_ptr<Waiter>> all_;
  std::deque<Waiter*> free_;
  size_t budget_;
};

uint32_t PollMask(uint32_t events) { return (events & ~kControlBits) | EPOLLERR | EPOLLHUP; }

}  // namespace

struct EpollInstance::Interest {
  uint64_t id = 0;
  std::weak_ptr<FileDescription> file;
  const FileDescription* key_file = nullptr;  // the map key, valid or not
  int fd = -1;
  uint32_t events = 0;  // as given, plus EPOLLERR | EPOLLHUP
  uint64_t data = 0;
  bool enabled = true;  // false once an EPOLLONESHOT event fired, until MOD
  bool listed = false;  // on ready_, at ready_it
  std::list<Interest*>::iterator ready_it;
  Waiter* waiter = nullptr;  // pooled; for sentry-side files
  int host_fd = -1;          // for host-backed files
};

ErrnoOr<std::shared_ptr<EpollInstance>> EpollInstance::Create(int flags) {
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  if (!ep.ok()) return Errno::FromHost();
  return std::shared_ptr<EpollInstance>(new EpollInstance(flags, std::move(ep)));
}

EpollInstance::EpollInstance(int flags, UniqueFd host_ep)
    : FileDescription(O_RDWR | (flags & O_NONBLOCK)), host_ep_(std::move(host_ep)) {}

EpollInstance::~EpollInstance() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [key, it] : interests_) {
    FileRef f = it->file.lock();
    if (f && it->waiter) f->EventUnregister(it->waiter);
    if (it->waiter) WaiterPool::Get().Give(it->waiter);
  }
  // host_ep_ closes with us, dropping every host registration.
}

size_t EpollInstance::interest_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return interests_.size();
}

EpollInstance::Interest* EpollInstance::FindLocked(const FileRef& file, int fd) {
  auto pos = interests_.find({file.get(), fd});
  if (pos == interests_.end()) return nullptr;
  Interest* it = pos->second.get();
  FileRef live = it->file.lock();
  if (live == file) return it;
  RemoveLocked(it, live);  // stale: that file died and its address came back
  return nullptr;
}

Errno EpollInstance::RegisterHostLocked(Interest* it) {
  HostReg& reg = host_regs_[it->host_fd];
  uint32_t want = reg.events | (it->events & kHostEventBits);
  struct epoll_event ev {};
  ev.events = want | EPOLLET;
  ev.data.u64 = (static_cast<uint64_t>(it->host_fd) << 1) | kHostFdTag;
  // The registration may be gone (its host fd closed and the number
  // reused) or present when we think it is not: try the other op.
  int op = reg.users.empty() ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  int rc = epoll_ctl(host_ep_.get(), op, it->host_fd, &ev);
  if (rc != 0 && (errno == ENOENT || errno == EEXIST)) {
    op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    rc = epoll_ctl(host_ep_.get(), op, it->host_fd, &ev);
  }
  if (rc != 0) {
    Errno e = Errno::FromHost();  // ELOOP for cycles; EPERM for host files
    if (reg.users.empty()) host_regs_.erase(it->host_fd);
    return e;
  }
  reg.events = want;
  reg.users.push_back(it);
  return Errno::Ok();
}

void EpollInstance::UnregisterHostLocked(Interest* it) {
  auto pos = host_regs_.find(it->host_fd);
  if (pos == host_regs_.end()) return;
  HostReg& reg = pos->second;
  reg.users.erase(std::remove(reg.users.begin(), reg.users.end(), it), reg.users.end());
  if (reg.users.empty()) {
    epoll_ctl(host_ep_.get(), EPOLL_CTL_DEL, it->host_fd, nullptr);  // may be gone already
    host_regs_.erase(pos);
    return;
  }
  reg.events = 0;
  for (Interest* u : reg.users) reg.events |= u->events & kHostEventBits;
  struct epoll_event ev {};
  ev.events = reg.events | EPOLLET;
  ev.data.u64 = (static_cast<uint64_t>(it->host_fd) << 1) | kHostFdTag;
  epoll_ctl(host_ep_.get(), EPOLL_CTL_MOD, it->host_fd, &ev);
}

void EpollInstance::UnlistLocked(Interest* it) {
  if (!it->listed) return;
  ready_.erase(it->ready_it);
  it->listed = false;
}

void EpollInstance::MarkLocked(Interest* it, bool& listed_any) {
  if (!it->enabled || it->listed) return;
  it->ready_it = ready_.insert(ready_.end(), it);
  it->listed = true;
  listed_any = true;
}

void EpollInstance::RemoveLocked(Interest* it, const FileRef& live_file) {
  UnlistLocked(it);
  if (it->waiter) {
    if (live_file) live_file->EventUnregister(it->waiter);
    epoll_ctl(host_ep_.get(), EPOLL_CTL_DEL, it->waiter->fd(), nullptr);
    WaiterPool::Get().Give(it->waiter);
  } else {
    UnregisterHostLocked(it);
  }
  by_id_.erase(it->id);
  interests_.erase({it->key_file, it->fd});  // frees it
}

void EpollInstance::MaybeSweepLocked() {
  if (interests_.size() < sweep_at_) return;
  std::vector<Interest*> dead;
  for (auto& [key, it] : interests_) {
    if (it->file.expired()) dead.push_back(it.get());
  }
  for (Interest* it : dead) RemoveLocked(it, nullptr);
  sweep_at_ = std::max<size_t>(64, 2 * interests_.size());
}

Errno EpollInstance::Add(const FileRef& file, int fd, uint32_t events, uint64_t data) {
  bool listed_any = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (FindLocked(file, fd)) return Errno(EEXIST);
    MaybeSweepLocked();
    auto owned = std::make_unique<Interest>();
    Interest* it = owned.get();
    it->id = next_id_++;
    it->file = file;
    it->key_file = file.get();
    it->fd = fd;
    it->events = events | EPOLLERR | EPOLLHUP;
    it->data = data;
    it->host_fd = file->HostFdForPoll();
    if (it->host_fd >= 0) {
      PAL_TRY_ERRNO(RegisterHostLocked(it));
    } else {
      PAL_TRY(it->waiter, WaiterPool::Get().Take());
      struct epoll_event ev {};
      ev.events = EPOLLIN | EPOLLET;  // every Notify() is one edge
      ev.data.u64 = it->id << 1;
      if (epoll_ctl(host_ep_.get(), EPOLL_CTL_ADD, it->waiter->fd(), &ev) != 0) {
        Errno e = Errno::FromHost();
        WaiterPool::Get().Give(it->waiter);
        return e;
      }
      file->EventRegister(it->waiter, PollMask(it->events));
    }
    interests_[{file.get(), fd}] = std::move(owned);
    by_id_[it->id] = it;
    // Ready already: listed now, as ep_insert does.
    if (file->Readiness(PollMask(it->events))) MarkLocked(it, listed_any);
  }
  if (listed_any) queue_.Notify(POLLIN | POLLRDNORM);
  return Errno::Ok();
}

Errno EpollInstance::Modify(const FileRef& file, int fd, uint32_t events, uint64_t data) {
  bool listed_any = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    Interest* it = FindLocked(file, fd);
    if (!it) return Errno(ENOENT);
    if (it->events & EPOLLEXCLUSIVE) return Errno(EINVAL);
    it->events = events | EPOLLERR | EPOLLHUP;
    it->data = data;
    it->enabled = true;  // re-arms an EPOLLONESHOT interest
    if (it->waiter) {
      file->EventUnregister(it->waiter);
      file->EventRegister(it->waiter, PollMask(it->events));
    } else {
      UnregisterHostLocked(it);
      Errno e = RegisterHostLocked(it);
      if (!e.ok()) {
        RemoveLocked(it, file);
        return e;
      }
    }
    if (file->Readiness(PollMask(it->events))) {
      MarkLocked(it, listed_any);
    } else {
      UnlistLocked(it);
    }
  }
  if (listed_any) queue_.Notify(POLLIN | POLLRDNORM);
  return Errno::Ok();
}

Errno EpollInstance::Delete(const FileRef& file, int fd) {
  std::lock_guard<std::mutex> l(mu_);
  Interest* it = FindLocked(file, fd);
  if (!it) return Errno(ENOENT);
  RemoveLocked(it, file);
  return Errno::Ok();
}

void EpollInstance::DrainLocked() {
  bool listed_any = false;
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(host_ep_.get(), evs, 64, 0);
    if (n <= 0) break;  // EINTR cannot happen with a zero timeout
    for (int i = 0; i < n; i++) {
      uint64_t tag = evs[i].data.u64;
      if (tag & kHostFdTag) {
        auto pos = host_regs_.find(static_cast<int>(tag >> 1));
        if (pos == host_regs_.end()) continue;
        for (Interest* it : pos->second.users) MarkLocked(it, listed_any);
      } else {
        auto pos = by_id_.find(tag >> 1);
        if (pos != by_id_.end()) MarkLocked(pos->second, listed_any);
      }
    }
    if (n < 64) break;
  }
  // Another sleeper (or a poller of this instance) may be waiting on
  // host_ep_, which we just drained: tell it through queue_.
  if (listed_any) queue_.Notify(POLLIN | POLLRDNORM);
}

size_t EpollInstance::Collect(std::span<struct epoll_event> out) {
  size_t n = 0;
  bool more = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    DrainLocked();
    std::vector<Interest*> relist;  // level-triggered: stay listed, at the back
    while (n < out.size() && !ready_.empty()) {
      Interest* it = ready_.front();
      UnlistLocked(it);
      FileRef f = it->file.lock();
      if (!f) {
        RemoveLocked(it, nullptr);
        continue;
      }
      if (!it->enabled) continue;
      uint32_t revents = f->Readiness(PollMask(it->events)) & PollMask(it->events);
      if (revents == 0) continue;  // woken, but not ready any more
      out[n].events = revents;
      out[n].data.u64 = it->data;
      n++;
      if (it->events & EPOLLONESHOT) {
        it->enabled = false;
      } else if (!(it->events & EPOLLET)) {
        relist.push_back(it);
      }
    }
    bool unused = false;
    for (Interest* it : relist) MarkLocked(it, unused);
    more = !ready_.empty();
  }
  // Events left over for someone else (Linux's ep_done_scan wake-up).
  if (more && n > 0) queue_.Notify(POLLIN | POLLRDNORM);
  return n;
}

ErrnoOr<size_t> EpollInstance::Wait(Task& t, std::span<struct epoll_event> out, int64_t deadline_ns) {
  size_t n = Collect(out);
  if (n > 0 || (deadline_ns >= 0 && MonotonicNowNs() >= deadline_ns)) return n;
  Waiter& w = t.waiter();
  w.Clear();
  queue_.Register(&w, POLLIN | POLLRDNORM);
  ErrnoOr<size_t> result = size_t{0};
  for (;;) {
    n = Collect(out);
    if (n > 0) {
      result = n;
      break;
    }
    Errno e = t.Block(deadline_ns, host_ep_.get(), POLLIN);
    if (e == Errno(EINTR) || e == Errno(ETIMEDOUT)) {
      // Events that arrived with the signal or at the deadline still win,
      // as in ep_poll.
      n = Collect(out);
      result = n > 0 ? ErrnoOr<size_t>(n) : (e == Errno(EINTR) ? ErrnoOr<size_t>(Errno(EINTR))
                                                                  : ErrnoOr<size_t>(size_t{0}));
      break;
    }
    w.Clear();
  }
  queue_.Unregister(&w);
  return result;
}

uint32_t EpollInstance::Readiness(uint32_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  DrainLocked();
  // As __ep_eventpoll_poll: the first listed interest that is really ready
  // makes the instance readable; the not-ready ones it passes are dropped.
  for (auto pos = ready_.begin(); pos != ready_.end();) {
    Interest* it = *pos++;
    FileRef f = it->file.lock();
    if (f && it->enabled && f->Readiness(PollMask(it->events))) return mask & (POLLIN | POLLRDNORM);
    UnlistLocked(it);
  }
  return 0;
}

void EpollInstance::EventRegister(Waiter* w, uint32_t mask) { queue_.Register(w, mask); }

void EpollInstance::EventUnregister(Waiter* w) { queue_.Unregister(w); }

ErrnoOr<struct stat> EpollInstance::Stat(Task& t) { return AnonInodeStat(); }

}  // namespace palisade
