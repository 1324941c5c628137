// `palisade spec`: write runc's default config.json (see oci/default_spec.h)
// into --bundle or the working directory, refusing to overwrite one.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "runsc/cli/commands.h"
#include "runsc/oci/default_spec.h"

namespace palisade::cli {
namespace {

struct SpecFlags {
  std::vector<std::string> args;
  std::string bundle;
  bool rootless = false;
};

absl::Status WriteNewFile(const std::string& path, const std::string& data) {
  // O_EXCL: never replace a config.json, even one created a moment ago.
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd.ok()) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError("File config.json exists. Remove it first");
    }
    return ErrnoStatus(errno, "create", path);
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Spec(const SpecFlags& f, const CommandContext& ctx) {
  PAL_RETURN_IF_ERROR(RequireExactArgs("spec", f.args, 0));
  const std::string dir = f.bundle.empty() ? "." : f.bundle;
  oci::DefaultSpecOptions opts{.rootless = f.rootless, .uid = geteuid(), .gid = getegid()};
  std::string text = oci::DefaultSpec(opts).dump(1, '\t');
  text += '\n';
  PAL_RETURN_IF_ERROR(WriteNewFile(dir + "/config.json", text));
  return 0;
}

}  // namespace

CommandRunner SetupSpec(CLI::App& sub) {
  auto f = std::make_shared<SpecFlags>();
  sub.add_option("args", f->args)->group("");  // none allowed; checked like runc
  sub.add_option("-b,--bundle", f->bundle, "path to the root of the bundle directory");
  sub.add_flag("--rootless", f->rootless, "generate a configuration for a rootless container");
  return [f](const CommandContext& ctx) { return Spec(*f, ctx); };
}

}  // namespace palisade::cli
