#include "runsc/oci/boot_config.h"

#include "absl/strings/str_cat.h"
#include "runsc/oci/rlimits.h"

namespace palisade::oci {

absl::StatusOr<BootConfig> ToBootConfig(const Bundle& bundle, const BootOptions& opts) {
  const OciSpec& spec = bundle.spec;
  if (!spec.process) {
    return absl::InvalidArgumentError("config.json: process: required to run a container");
  }
  const Process& proc = *spec.process;

  BootConfig cfg;
  cfg.rootfs = bundle.rootfs;
  cfg.root_readonly = spec.root.readonly;
  cfg.argv = proc.args;
  cfg.env = proc.env;
  cfg.cwd = proc.cwd;
  cfg.uid = proc.user.uid;
  cfg.gid = proc.user.gid;
  cfg.additional_gids = proc.user.additional_gids;
  if (!spec.hostname.empty()) cfg.hostname = spec.hostname;
  if (proc.user.umask) cfg.umask = *proc.user.umask;
  cfg.no_new_privileges = proc.no_new_privileges;
  cfg.platform = opts.platform;
  cfg.strace = opts.strace;
  cfg.terminal = proc.terminal && opts.stdio_is_tty;

  cfg.mounts.reserve(spec.mounts.size());
  for (const Mount& m : spec.mounts) {
    cfg.mounts.push_back(BootMount{m.destination, m.type, m.source, m.options});
  }
  cfg.rlimits.reserve(proc.rlimits.size());
  for (size_t i = 0; i < proc.rlimits.size(); ++i) {
    const Rlimit& r = proc.rlimits[i];
    std::optional<int> resource = RlimitFromName(r.type);
    if (!resource) {  // ParseSpec rejects these; kept for specs built in code.
      return absl::InvalidArgumentError(absl::StrCat("config.json: process.rlimits[", i,
                                                     "].type: unknown rlimit \"", r.type, "\""));
    }
    cfg.rlimits.push_back(BootRlimit{*resource, r.soft, r.hard});
  }
  return cfg;
}

}  // namespace palisade::oci
