// The platform registry: --platform=<name> to a factory, as data.
#include "platform/platform.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "platform/ptrace/ptrace_platform.h"
#include "platform/systrap/systrap_platform.h"

namespace palisade::platform {
namespace {

struct PlatformEntry {
  std::string_view name;
  absl::StatusOr<std::unique_ptr<Platform>> (*create)(int memfd);
};

constexpr PlatformEntry kPlatforms[] = {
    // The default: a seccomp trap handled inside the stub, no ptrace stop
    // per syscall.
    {"systrap", &SystrapPlatform::Create},
    // Works on any host that allows ptrace; the slowest per syscall.
    {"ptrace", &PtracePlatform::Create},
};

}  // namespace

std::vector<std::string> Platform::Names() {
  std::vector<std::string> names;
  for (const PlatformEntry& e : kPlatforms) names.emplace_back(e.name);
  return names;
}

absl::StatusOr<std::unique_ptr<Platform>> Platform::Create(const std::string& name, int memfd) {
  for (const PlatformEntry& e : kPlatforms) {
    if (e.name == name) return e.create(memfd);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown platform \"", name,
                                                 "\"; valid platforms: ",
                                                 absl::StrJoin(Names(), ", ")));
}

FpState InitialFpState() {
  FpState fp{};
  fp.cwd = 0x37f;
  fp.mxcsr = 0x1f80;
  return fp;
}

Registers InitialRegisters(uint64_t rip, uint64_t rsp) {
  Registers r{};
  r.rip = rip;
  r.rsp = rsp;
  r.cs = 0x33;       // __USER_CS: 64-bit user code segment
  r.ss = 0x2b;       // __USER_DS
  r.eflags = 0x202;  // IF, plus bit 1 which always reads as 1
  r.orig_rax = ~uint64_t{0};
  return r;
}

}  // namespace palisade::platform
