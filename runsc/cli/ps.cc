// `palisade ps <id>`: the container's processes as the sentry knows them
// (pids in the sandbox's PID namespace). --format json prints the array of
// pids go-runc reads; table prints UID, PID, PPID, threads and command.
#include <iostream>
#include <memory>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"

namespace palisade::cli {
namespace {

struct PsFlags {
  std::vector<std::string> args;
  std::string format = "table";
};

absl::StatusOr<int> Ps(const PsFlags& f, const CommandContext& ctx) {
  if (f.args.empty()) return absl::InvalidArgumentError("\"ps\" requires a minimum of 1 argument(s)");
  if (f.format != "table" && f.format != "json") {
    return absl::InvalidArgumentError("invalid format option");
  }
  PAL_ASSIGN_OR_RETURN(Container c, Container::Load(oci::AbsolutePath(ctx.global.root), f.args[0]));
  if (c.state.status == kStatusStopped) return absl::FailedPreconditionError("container not running");
  if (c.state.status == kStatusPaused) {
    return absl::FailedPreconditionError("cannot list the processes of a paused container");
  }
  std::vector<control::ProcessInfo> procs;
  if (c.state.status != kStatusCreated) {
    control::Request req;
    req.mutable_ps();
    PAL_ASSIGN_OR_RETURN(control::Response r, c.Call(req));
    procs.assign(r.ps().processes().begin(), r.ps().processes().end());
  }
  if (f.format == "json") {
    nlohmann::json pids = nlohmann::json::array();
    for (const auto& p : procs) pids.push_back(p.pid());
    std::cout << pids.dump() << "\n";
    return 0;
  }
  std::cout << absl::StrFormat("%-8s %-8s %-8s %-8s %s\n", "UID", "PID", "PPID", "THREADS", "CMD");
  for (const auto& p : procs) {
    std::cout << absl::StrFormat("%-8d %-8d %-8d %-8d %s\n", p.uid(), p.pid(), p.ppid(), p.threads(), p.cmd());
  }
  return 0;
}

}  // namespace

CommandRunner SetupPs(CLI::App& sub) {
  auto f = std::make_shared<PsFlags>();
  sub.add_option("container-id", f->args, "the container (ps options after it are ignored)");
  sub.add_option("-f,--format", f->format, "table or json");
  return [f](const CommandContext& ctx) { return Ps(*f, ctx); };
}

}  // namespace palisade::cli
