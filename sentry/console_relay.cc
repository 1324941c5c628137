#include "sentry/console_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"
#include "sentry/fsimpl/devpts/devpts.h"
#include "sentry/fsimpl/devpts/pty_files.h"
#include "sentry/fsimpl/devpts/terminal.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/waiter.h"
#include "spdlog/spdlog.h"

namespace palisade {

struct ConsoleRelay::State {
  FileRef master;
  std::shared_ptr<Terminal> term;
  UniqueFd host;
  struct termios saved {};
  bool restore = false;
  std::atomic<bool> stop{false};
  Waiter waiter;  // woken by the terminal's master queue and by the owner
};

namespace {

// Writes all of buf to the host tty, waiting for room if the caller made
// the (shared) open file description non-blocking. False once the host
// side is gone.
bool WriteAllToHost(int fd, const uint8_t* buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w > 0) {
      buf += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 1000);
      continue;
    }
    return false;
  }
  return true;
}

void CopyWindowSize(int host, Terminal& term) {
  struct winsize ws {};
  if (ioctl(host, TIOCGWINSZ, &ws) == 0) term.SetWindowSize(ws);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleRelay>> ConsoleRelay::Attach(Task& t, int host_tty) {
  if (!isatty(host_tty)) {
    return absl::FailedPreconditionError(absl::StrCat("terminal: host fd ", host_tty, " is not a tty"));
  }
  auto s = std::make_shared<State>();
  s->host = UniqueFd(fcntl(host_tty, F_DUPFD_CLOEXEC, 3));
  if (s->host.get() < 0) return absl::InternalError("terminal: cannot dup the host tty");

  ErrnoOr<FileRef> master = devpts::OpenMaster(t.kernel(), t.creds(), O_RDWR);
  if (!master.ok()) return absl::InternalError(absl::StrCat("terminal: /dev/ptmx: ", master.error().Name()));
  s->master = *master;
  s->term = static_cast<devpts::MasterFile&>(*s->master).terminal();
  s->term->set_locked(false);
  // Opened by t without O_NOCTTY: t (a session leader) acquires it as its
  // controlling terminal, with its process group in the foreground.
  ErrnoOr<FileRef> replica = devpts::OpenReplica(s->term, &t, O_RDWR);
  if (!replica.ok()) return absl::InternalError(absl::StrCat("terminal: replica: ", replica.error().Name()));
  for (int fd = 0; fd < 3; fd++) {
    if (Errno e = t.fds().Set(fd, *replica, false); !e.ok()) {
      return absl::InternalError(absl::StrCat("terminal: fd ", fd, ": ", e.Name()));
    }
  }

  if (tcgetattr(s->host.get(), &s->saved) == 0) {
    struct termios raw = s->saved;
    cfmakeraw(&raw);
    s->restore = tcsetattr(s->host.get(), TCSANOW, &raw) == 0;
  }
  CopyWindowSize(s->host.get(), *s->term);
  s->term->master_queue().Register(&s->waiter, POLLIN | POLLOUT | POLLHUP);
  return std::unique_ptr<ConsoleRelay>(new ConsoleRelay(std::move(s)));
}

ConsoleRelay::ConsoleRelay(std::shared_ptr<State> s) : state_(std::move(s)) {
  thread_ = std::thread(&ConsoleRelay::Run, state_);
}

ConsoleRelay::~ConsoleRelay() {
  if (!thread_.joinable()) return;
  state_->stop = true;
  state_->waiter.Notify();
  thread_.join();
}

void ConsoleRelay::Detach(std::unique_ptr<ConsoleRelay> relay) {
  if (relay && relay->thread_.joinable()) relay->thread_.detach();
}

void ConsoleRelay::Run(std::shared_ptr<State> s) {
  Terminal& term = *s->term;
  const int host = s->host.get();
  std::vector<uint8_t> to_app;  // read from the host, not yet taken by the line discipline
  uint8_t buf[4096];
  struct winsize last {};
  ioctl(host, TIOCGWINSZ, &last);
  bool host_gone = false;
  for (;;) {
    // The application's output first, so nothing is lost when it ends.
    for (;;) {
      ErrnoOr<int64_t> n = term.MasterRead(buf);
      if (!n.ok() || *n <= 0) break;
      if (!WriteAllToHost(host, buf, static_cast<size_t>(*n))) {
        host_gone = true;
        break;
      }
    }
    if (host_gone) break;
    const uint32_t ready = term.MasterReadiness(POLLIN | POLLOUT);
    if (ready & POLLIN) continue;
    if ((ready & POLLHUP) || s->stop) break;  // every replica closed, or the owner is done

    if (!to_app.empty()) {
      ErrnoOr<int64_t> n = term.MasterWrite(to_app);
      if (n.ok() && *n > 0) to_app.erase(to_app.begin(), to_app.begin() + *n);
    }
    struct winsize ws {};
    if (ioctl(host, TIOCGWINSZ, &ws) == 0 && memcmp(&ws, &last, sizeof ws) != 0) {
      last = ws;
      term.SetWindowSize(ws);
    }

    pollfd fds[2] = {{host, static_cast<short>(to_app.empty() ? POLLIN : 0), 0},
                     {s->waiter.fd(), POLLIN, 0}};
    int r = poll(fds, 2, kWindowPollMs);
    if (r < 0 && errno != EINTR) break;
    s->waiter.Clear();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(host, buf, sizeof buf);
      if (n > 0) {
        to_app.insert(to_app.end(), buf, buf + n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        host_gone = true;  // the caller closed the console (EIO on a pty replica)
        break;
      }
    }
  }
  term.master_queue().Unregister(&s->waiter);
  if (s->restore && !host_gone) tcsetattr(host, TCSANOW, &s->saved);
  if (host_gone) spdlog::debug("console: the host terminal hung up");
  // Dropping the master hangs the sandbox's terminal up (SIGHUP to its
  // session) if anyone still has the replica open.
  s->master.reset();
}

}  // namespace palisade
