#include "runsc/sandbox/preflight.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace palisade::sandbox {
namespace {

bool HaveCapSysPtrace() {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return data[CAP_SYS_PTRACE / 32].effective & (1u << (CAP_SYS_PTRACE % 32));
}

}  // namespace

absl::Status Preflight(const std::string& platform, const std::string& proc_root) {
  if (platform != "ptrace") return absl::OkStatus();
  std::ifstream f(proc_root + "/sys/kernel/yama/ptrace_scope");
  int scope = 0;
  if (!(f >> scope)) return absl::OkStatus();  // no Yama: ptrace is allowed
  if (scope >= 3) {
    return absl::FailedPreconditionError(
        "the ptrace platform cannot run: kernel.yama.ptrace_scope=3 forbids ptrace on this host; "
        "it can only be lowered by rebooting with kernel.yama.ptrace_scope=1 (or 0) set, e.g. in "
        "/etc/sysctl.d/");
  }
  if (scope == 2 && !HaveCapSysPtrace()) {
    return absl::FailedPreconditionError(
        "the ptrace platform cannot run: kernel.yama.ptrace_scope=2 allows ptrace only with "
        "CAP_SYS_PTRACE; run palisade as root or lower it with `sysctl -w "
        "kernel.yama.ptrace_scope=1`");
  }
  return absl::OkStatus();
}

}  // namespace palisade::sandbox
