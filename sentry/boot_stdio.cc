#include "sentry/boot_stdio.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "sentry/fsimpl/dev/devfs.h"
#include "sentry/kernel/task.h"
#include "spdlog/spdlog.h"

namespace palisade {

absl::StatusOr<std::unique_ptr<ConsoleRelay>> InstallStdio(Task& init, const BootConfig& cfg) {
  if (cfg.terminal) {
    if (isatty(STDIN_FILENO)) return ConsoleRelay::Attach(init, STDIN_FILENO);
    spdlog::warn("process.terminal is set but the sandbox's stdin is not a tty: running without one");
  }
  for (int fd = 0; fd < 3; fd++) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) continue;  // closed in the caller: closed in the container
    FileRef f = dev::NewHostStdioFile(fd, flags);
    if (!f) return absl::InternalError(absl::StrCat("cannot share stdio fd ", fd));
    Errno e = init.fds().Set(fd, f, false);
    if (!e.ok()) return absl::InternalError(absl::StrCat("stdio fd ", fd, ": ", e.Name()));
  }
  return nullptr;
}

}  // namespace palisade
