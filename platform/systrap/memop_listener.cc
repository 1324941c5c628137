#include "platform/systrap/memop_listener.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>

#include "platform/ptrace/stub_page.h"
#include "platform/systrap/handoff.h"
#include "spdlog/spdlog.h"

namespace palisade::platform {
namespace {

// How long to poll for the next notification before sleeping in poll(2):
// the syncing thread's calls follow each other within microseconds.
constexpr int64_t kSpinNs = 20'000;
constexpr int kLivenessCheckMs = kLivenessCheckNs / 1'000'000;

bool IsMarker(const seccomp_notif& n) {
  return n.data.nr == SYS_munmap && n.data.args[0] == 0 && n.data.args[1] == 0;
}

bool Matches(const seccomp_notif& n, const MemOpCall& c) {
  if (n.data.nr != static_cast<int>(c.nr)) return false;
  const int nargs = c.nr == SYS_munmap ? 2 : 6;
  for (int i = 0; i < nargs; ++i) {
    if (n.data.args[i] != c.args[i]) return false;
  }
  return true;
}

}  // namespace

bool MemOpListener::Receive(seccomp_notif& n) {
  std::memset(&n, 0, sizeof(n));  // RECV wants it zeroed
  return ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, &n) == 0;
}

bool MemOpListener::Answer(uint64_t id, uint32_t flags, int error) {
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof(resp));
  resp.id = id;
  resp.flags = flags;
  resp.error = error;
  return ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0;
}

Errno MemOpListener::Serve(pid_t tid, const std::vector<MemOpCall>& calls,
                           const std::function<bool()>& alive) {
  size_t next = 0;
  int64_t spin_until = MonotonicNs() + kSpinNs;
  for (;;) {
    pollfd p{fd_.get(), POLLIN, 0};
    const bool spin = MonotonicNs() < spin_until;
    const int r = poll(&p, 1, spin ? 0 : kLivenessCheckMs);
    if (r < 0 && errno != EINTR) return Errno(EIO);
    if (r <= 0) {
      if (!spin && !alive()) return Errno(ESRCH);
      continue;
    }
    if (p.revents & (POLLHUP | POLLERR)) return Errno(ESRCH);  // no thread left to notify
    seccomp_notif n;
    if (!Receive(n)) {
      if (errno == EINTR || errno == ENOENT) continue;  // its thread died or was interrupted
      return Errno(EIO);
    }
    uint32_t flags = 0;
    int error = 0;
    const bool ours = static_cast<pid_t>(n.pid) == tid &&
                      n.data.instruction_pointer >= StubPage::kAddress &&
                      n.data.instruction_pointer < StubPage::kAddress + StubPage::kSize;
    bool done = false;
    if (ours && next < calls.size() && Matches(n, calls[next])) {
      flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // run it as it is
      ++next;
    } else if (ours && next == calls.size() && IsMarker(n)) {
      done = true;  // returns 0 without running
    } else {
      spdlog::debug("systrap: refused a stub-page call {} from thread {}", n.data.nr, n.pid);
      error = -ENOSYS;
    }
    if (!Answer(n.id, flags, error) && errno != ENOENT) return Errno(EIO);
    if (done) return Errno::Ok();
    spin_until = MonotonicNs() + kSpinNs;
  }
}

void MemOpListener::RefusePending() {
  for (;;) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) return;
    seccomp_notif n;
    if (!Receive(n)) return;
    (void)Answer(n.id, 0, -ENOSYS);
  }
}

}  // namespace palisade::platform
