#include "sentry/control/boot_main.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/ptrace/stub_factory.h"
#include "sentry/boot.h"
#include "sentry/control/boot_config_json.h"
#include "sentry/control/server.h"
#include "sentry/seccomp/sentry_filter.h"
#include "spdlog/spdlog.h"

namespace palisade {
namespace {

absl::StatusOr<std::string> ReadAll(int fd) {
  std::string out;
  char buf[65536];
  if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE) {
    return absl::InternalError(absl::StrCat("boot config: lseek: ", strerror(errno)));
  }
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("boot config: read: ", strerror(errno)));
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

int BootMain(const BootFds& fds) {
  int ready_fd = fds.ready;
  // Until the start barrier, failures go back to `create` through the
  // ready pipe, which prints them as the root cause.
  auto fail = [&](const absl::Status& s) {
    if (ready_fd >= 0) {
      WriteAll(ready_fd, std::string(s.message()));
      close(ready_fd);
      ready_fd = -1;
    } else {
      spdlog::error("{}", std::string(s.message()));
    }
    return 1;
  };
  // The stub factory first, while this process has one thread and a small
  // heap, and before the sentry's filter: stubs are forked from it, never
  // from the sentry (platform/ptrace/stub_factory.h).
  if (absl::Status s = platform::StubFactory::Start(); !s.ok()) return fail(s);
  absl::StatusOr<std::string> text = ReadAll(fds.config);
  close(fds.config);
  if (!text.ok()) return fail(text.status());
  absl::StatusOr<BootConfig> cfg = BootConfigFromJson(*text);
  if (!cfg.ok()) return fail(cfg.status());

  control::ControlServer server(fds.control);
  BootHooks hooks;
  hooks.at_start_barrier = [&](Kernel& k) {
    // Set-up is done and the application has not run: from here on the
    // sentry needs no host path. Stubs come from the stub factory, forked
    // before this filter, so they do not inherit it (docs/security.md).
    if (absl::Status st = seccomp::InstallSentryFilter(); !st.ok()) {
      fail(st);
      return std::optional<int>(1);
    }
    return server.ServeUntilStart(k, [&] {
      WriteAll(ready_fd, "ok\n");
      close(ready_fd);
      ready_fd = -1;
    });
  };
  absl::StatusOr<int> code = RunSandbox(*cfg, hooks);
  int rc = code.ok() ? *code : fail(code.status());
  server.Finish(rc);
  // Connection threads may still be blocked (a detached exec's waiter):
  // leave without running static destructors under them. The exit status
  // is what conmon and containerd's shim read from the pid file's process.
  spdlog::shutdown();
  fflush(nullptr);
  _exit(rc);
}

}  // namespace palisade
