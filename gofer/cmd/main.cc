// palisade-gofer: the gofer of one sandbox as a binary of its own. The
// front end starts it (runsc/sandbox/gofer_launch.cc) instead of
// re-executing the whole palisade binary, which maps the sentry, the
// front end and some 35 shared libraries for nothing: this one is a
// static-pie of the gofer server alone (docs/benchmarks.md, idle RSS).
//
//   palisade-gofer [--log=FILE] [--log-format=text|json] [--debug]
//       gofer --rootfs DIR --sock-fd 3 --report-fd 4 [...]
//
// Same flags, set-up steps and confinement as `palisade gofer`
// (gofer/server/gofer_flags.h, gofer_main.h).
#include <string>
#include <vector>

#include "base/logging.h"
#include "gofer/server/gofer_flags.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  // Until the flags are known, log to stderr only.
  (void)palisade::InitLogging({});
  palisade::LogOptions log;
  absl::StatusOr<palisade::gofer::GoferFlags> flags =
      palisade::gofer::ParseGoferCommandLine(std::vector<std::string>(argv + 1, argv + argc), &log);
  absl::Status s = flags.status();
  if (s.ok()) s = palisade::InitLogging(log);
  if (s.ok()) s = palisade::gofer::RunGoferWithFlags(*flags);
  if (!s.ok()) {
    spdlog::error("{}", std::string(s.message()));
    return 1;
  }
  return 0;
}
