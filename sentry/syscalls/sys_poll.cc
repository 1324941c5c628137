// poll, ppoll, select and pselect6: readiness of many fds at once
// (poll(2), select(2)). The waiting itself is WaitForReadiness
// (sys_poll_wait.h); timeouts and temporary signal masks are in
// sys_poll_common.h.
//
// Interrupted calls return ERESTARTNOHAND: restarted if no handler ran
// (e.g. SIGSTOP/SIGCONT, or an ignored signal), EINTR otherwise. Linux
// restarts poll() with its remaining time through restart_block; here a
// restarted poll() starts its timeout afresh. select, pselect6 and ppoll
// write the remaining time back before returning, so their restarts
// resume with what was left, as on Linux.
#include <poll.h>
#include <sys/select.h>

#include <algorithm>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/syscalls/handlers.h"
#include "sentry/syscalls/sys_poll_common.h"
#include "sentry/syscalls/sys_poll_wait.h"

namespace palisade::sys {
namespace {

// select's fd classes as poll bits (Linux's POLLIN_SET, POLLOUT_SET,
// POLLEX_SET): hang-ups and errors make an fd readable, errors writable.
constexpr uint32_t kSelectIn = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
constexpr uint32_t kSelectOut = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
constexpr uint32_t kSelectEx = POLLPRI;

// --- poll

ErrnoOr<int> DoPoll(Task& t, uint64_t fds_addr, uint64_t nfds, int64_t deadline_ns) {
  if (nfds > NofileLimit(t)) return Errno(EINVAL);
  std::vector<struct pollfd> pfds(nfds);
  if (nfds) PAL_TRY_ERRNO(t.CopyIn(fds_addr, pfds.data(), nfds * sizeof(struct pollfd)));
  std::vector<PollItem> items(nfds);
  for (uint64_t i = 0; i < nfds; i++) {
    if (pfds[i].fd < 0) continue;  // ignored: revents 0
    items[i].file = t.fds().Get(pfds[i].fd);
    if (!items[i].file) {
      items[i].revents = POLLNVAL;  // counts as ready
      continue;
    }
    items[i].mask = static_cast<uint16_t>(pfds[i].events) | POLLERR | POLLHUP;
  }
  ErrnoOr<int> r = WaitForReadiness(t, items, deadline_ns);
  // revents go back even when interrupted (they are then all 0), as Linux.
  for (uint64_t i = 0; i < nfds; i++) pfds[i].revents = static_cast<short>(items[i].revents);
  if (nfds) PAL_TRY_ERRNO(t.CopyOut(fds_addr, pfds.data(), nfds * sizeof(struct pollfd)));
  return r;
}

// --- select

// The size of fd_set buffers a process may pass: Linux caps nfds at the
// fd table's current size (64, 128, 256 ... slots, growing with the
// highest fd), ignoring bits beyond it. Here the table size is inferred
// from the highest open fd.
int SelectFdLimit(Task& t) {
  std::vector<int> fds = t.fds().Fds();
  int highest = fds.empty() ? 0 : *std::max_element(fds.begin(), fds.end());
  if (highest < 64) return 64;
  // alloc_fdtable(): slots come in powers of two of 1 KiB of pointers.
  int chunks = highest / 128 + 1, p = 1;
  while (p < chunks) p <<= 1;
  return p * 128;
}

using FdBits = std::vector<uint64_t>;

bool BitSet(const FdBits& b, int fd) { return !b.empty() && (b[fd / 64] >> (fd % 64)) & 1; }

ErrnoOr<int> DoSelect(Task& t, int n, uint64_t in_addr, uint64_t out_addr, uint64_t ex_addr,
                      int64_t deadline_ns) {
  if (n < 0) return Errno(EINVAL);
  n = std::min(n, SelectFdLimit(t));
  size_t words = (static_cast<size_t>(n) + 63) / 64;
  size_t bytes = words * sizeof(uint64_t);
  FdBits in, out, ex;
  auto load = [&](uint64_t addr, FdBits& bits) -> Errno {
    if (!addr) return Errno::Ok();
    bits.assign(words, 0);
    if (words) return t.CopyIn(addr, bits.data(), bytes);
    return Errno::Ok();
  };
  PAL_TRY_ERRNO(load(in_addr, in));
  PAL_TRY_ERRNO(load(out_addr, out));
  PAL_TRY_ERRNO(load(ex_addr, ex));

  struct Watched {
    int fd;
    bool in, out, ex;
  };
  std::vector<Watched> watched;
  std::vector<PollItem> items;
  for (int fd = 0; fd < n; fd++) {
    Watched w{fd, BitSet(in, fd), BitSet(out, fd), BitSet(ex, fd)};
    if (!w.in && !w.out && !w.ex) continue;
    FileRef f = t.fds().Get(fd);
    if (!f) return Errno(EBADF);  // every fd named must be open
    uint32_t mask = (w.in ? kSelectIn : 0) | (w.out ? kSelectOut : 0) | (w.ex ? kSelectEx : 0);
    watched.push_back(w);
    items.push_back(PollItem{std::move(f), mask, 0});
  }
  PAL_TRY(int ready, WaitForReadiness(t, items, deadline_ns));
  (void)ready;

  // Results replace the sets (written back even on timeout, as zeros).
  FdBits rin(words, 0), rout(words, 0), rex(words, 0);
  int count = 0;
  for (size_t i = 0; i < items.size(); i++) {
    const Watched& w = watched[i];
    uint32_t rev = items[i].revents;
    auto mark = [&](FdBits& b) {
      b[w.fd / 64] |= 1ull << (w.fd % 64);
      count++;
    };
    if (w.in && (rev & kSelectIn)) mark(rin);
    if (w.out && (rev & kSelectOut)) mark(rout);
    if (w.ex && (rev & kSelectEx)) mark(rex);
  }
  if (words) {
    if (in_addr) PAL_TRY_ERRNO(t.CopyOut(in_addr, rin.data(), bytes));
    if (out_addr) PAL_TRY_ERRNO(t.CopyOut(out_addr, rout.data(), bytes));
    if (ex_addr) PAL_TRY_ERRNO(t.CopyOut(ex_addr, rex.data(), bytes));
  }
  return count;
}

// Interrupted waits become ERESTARTNOHAND; the remaining time goes back to
// addr (a timespec, or a timeval if as_timeval). If that write fails, a
// restart would reuse a stale timeout, so EINTR is returned instead (and
// any other outcome stands), as poll_select_finish does.
SyscallResult Finish(Task& t, ErrnoOr<int> r, const PollTimeout& to, uint64_t addr, bool as_timeval) {
  SyscallResult res = r.ok() ? SyscallResult(int64_t(*r)) : SyscallResult(r.error());
  if (!r.ok() && r.error() == Errno(EINTR)) res = Errno(kERESTARTNOHAND);
  if (!addr || !to.write_back) return res;
  struct timespec left = Remaining(to);
  Errno e;
  if (as_timeval) {
    struct timeval tv = {left.tv_sec, left.tv_nsec / 1000};
    e = t.CopyOutObj(addr, tv);
  } else {
    e = t.CopyOutObj(addr, left);
  }
  if (!e.ok() && res.error() == Errno(kERESTARTNOHAND)) return Errno(EINTR);
  return res;
}

bool Interrupted(const ErrnoOr<int>& r) { return !r.ok() && r.error() == Errno(EINTR); }

}  // namespace

SyscallResult Poll(Task& t, const SyscallArgs& a) {
  PollTimeout to = TimeoutFromMs(a[2].Int());
  ErrnoOr<int> r = DoPoll(t, a[0].Ptr(), a[1].Size(), to.deadline_ns);
  if (Interrupted(r)) return Errno(kERESTARTNOHAND);
  return r;
}

SyscallResult Ppoll(Task& t, const SyscallArgs& a) {
  PollTimeout to;
  if (a[2].Ptr()) {
    struct timespec ts;
    PAL_TRY_ERRNO(t.CopyInObj(a[2].Ptr(), ts));
    if (!ValidTimespec(ts)) return Errno(EINVAL);
    to = TimeoutFromTimespec(ts);
  }
  PAL_TRY(std::optional<SigSet> mask, CopyInSigmask(t, a[3].Ptr(), a[4].Size()));
  TempSigmask tm(t, mask);
  ErrnoOr<int> r = DoPoll(t, a[0].Ptr(), a[1].Size(), to.deadline_ns);
  tm.Finish(Interrupted(r));
  return Finish(t, r, to, a[2].Ptr(), /*as_timeval=*/false);
}

SyscallResult Select(Task& t, const SyscallArgs& a) {
  PollTimeout to;
  if (a[4].Ptr()) {
    struct timeval tv;
    PAL_TRY_ERRNO(t.CopyInObj(a[4].Ptr(), tv));
    if (tv.tv_sec < 0 || tv.tv_usec < 0) return Errno(EINVAL);
    // Microseconds past a second are carried over, not rejected.
    struct timespec ts = {tv.tv_sec + tv.tv_usec / 1000000, (tv.tv_usec % 1000000) * 1000};
    to = TimeoutFromTimespec(ts);
  }
  ErrnoOr<int> r = DoSelect(t, a[0].Int(), a[1].Ptr(), a[2].Ptr(), a[3].Ptr(), to.deadline_ns);
  return Finish(t, r, to, a[4].Ptr(), /*as_timeval=*/true);
}

SyscallResult Pselect6(Task& t, const SyscallArgs& a) {
  PollTimeout to;
  if (a[4].Ptr()) {
    struct timespec ts;
    PAL_TRY_ERRNO(t.CopyInObj(a[4].Ptr(), ts));
    if (!ValidTimespec(ts)) return Errno(EINVAL);
    to = TimeoutFromTimespec(ts);
  }
  // The 6th argument points at {const sigset_t* ss; size_t ss_len}.
  std::optional<SigSet> mask;
  if (a[5].Ptr()) {
    struct {
      uint64_t ss;
      uint64_t len;
    } arg;
    PAL_TRY_ERRNO(t.CopyInObj(a[5].Ptr(), arg));
    PAL_TRY(mask, CopyInSigmask(t, arg.ss, arg.len));
  }
  TempSigmask tm(t, mask);
  ErrnoOr<int> r = DoSelect(t, a[0].Int(), a[1].Ptr(), a[2].Ptr(), a[3].Ptr(), to.deadline_ns);
  tm.Finish(Interrupted(r));
  return Finish(t, r, to, a[4].Ptr(), /*as_timeval=*/false);
}

}  // namespace palisade::sys
