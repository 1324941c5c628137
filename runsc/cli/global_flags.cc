#include "runsc/cli/global_flags.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "spdlog/spdlog.h"

namespace palisade::cli {

std::string DefaultRoot() {
  if (geteuid() != 0) {
    const char* xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/palisade";
  }
  return "/run/palisade";
}

void AddGlobalFlags(CLI::App& app, GlobalOptions& opts) {
  opts.root = DefaultRoot();
  app.add_option("--root", opts.root, "root directory for storage of container state")
      ->capture_default_str()
      ->trigger_on_parse();
  app.add_option("--log", opts.log, "log file path (default: stderr)")->trigger_on_parse();
  app.add_option("--log-format", opts.log_format, "log format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str()
      ->trigger_on_parse();
  app.add_flag("--debug", opts.debug, "enable debug logging")->trigger_on_parse();
  app.add_flag("--systemd-cgroup", opts.systemd_cgroup,
               "accepted for runc compatibility; palisade does not manage cgroups yet")
      ->trigger_on_parse();
  app.add_option("--rootless", opts.rootless,
                 "accepted for runc compatibility: true, false or auto")
      ->check(CLI::IsMember({"true", "false", "auto"}))
      ->capture_default_str()
      ->trigger_on_parse();
  app.add_option("--platform", opts.platform, "platform that runs application code: systrap (seccomp trap, the default) or ptrace")
      ->capture_default_str()
      ->trigger_on_parse();
  app.add_flag("--strace", opts.strace, "log every system call the application makes")
      ->trigger_on_parse();
  app.add_option("--overlay", opts.overlay,
                 "root filesystem changes: memory (kept in the sandbox, the host rootfs is never "
                 "modified) or none (written through to the bundle's rootfs)")
      ->check(CLI::IsMember({"memory", "none"}))
      ->capture_default_str()
      ->trigger_on_parse();
}

namespace {

// True for "-foo" and "-foo=bar": a dash, then a letter, then at least one
// more flag-name character before any "=".
bool IsGoStyleLongFlag(const std::string& arg) {
  if (arg.size() < 3 || arg[0] != '-' || !std::isalpha(static_cast<unsigned char>(arg[1]))) {
    return false;
  }
  size_t name_end = arg.find('=');
  if (name_end == std::string::npos) name_end = arg.size();
  if (name_end < 3) return false;  // "-b=x" is a short flag with a value
  for (size_t i = 1; i < name_end; ++i) {
    unsigned char c = static_cast<unsigned char>(arg[i]);
    if (!std::isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> NormalizeGoStyleFlags(std::vector<std::string> args) {
  for (std::string& arg : args) {
    if (arg == "--") break;
    if (IsGoStyleLongFlag(arg)) arg.insert(0, "-");
  }
  return args;
}

LogOptions ToLogOptions(const GlobalOptions& opts) {
  return LogOptions{.debug = opts.debug, .file = opts.log, .format = opts.log_format};
}

void WarnAboutIgnoredGlobalFlags(const GlobalOptions& opts) {
  for (const std::string& flag : opts.unknown_flags) {
    spdlog::warn("ignoring unknown global flag \"{}\"", flag);
  }
  if (opts.systemd_cgroup) {
    spdlog::warn("--systemd-cgroup is accepted but has no effect: palisade does not manage cgroups yet");
  }
}

}  // namespace palisade::cli
