// `palisade events <id>`: resource statistics from the sandbox's cgroup,
// as runc's JSON events: once with --stats, else every --interval until
// the container stops (plus an "oom" event when the cgroup OOM-kills).
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"

namespace palisade::cli {
namespace {

struct EventsFlags {
  std::vector<std::string> args;
  bool stats = false;
  std::string interval = "5s";
};

nlohmann::ordered_json StatsEvent(const Container& c) {
  nlohmann::ordered_json data = c.cgroup().Stats();
  control::Request req;
  req.mutable_stats();
  if (c.state.status == kStatusRunning) {
    if (absl::StatusOr<control::Response> r = c.Call(req, {}, absl::Seconds(5)); r.ok()) {
      data["sandbox"] = {{"processes", r->stats().processes()},
                         {"threads", r->stats().threads()},
                         {"memoryFileBytes", r->stats().memory_file_bytes()}};
    }
  }
  return {{"type", "stats"}, {"id", c.state.id}, {"data", data}};
}

absl::StatusOr<int> Events(const EventsFlags& f, const CommandContext& ctx) {
  PAL_RETURN_IF_ERROR(RequireExactArgs("events", f.args, 1));
  absl::Duration interval;
  if (!absl::ParseDuration(f.interval, &interval) || interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("duration interval must be greater than 0");
  }
  const std::string root = oci::AbsolutePath(ctx.global.root);
  PAL_ASSIGN_OR_RETURN(Container c, Container::Load(root, f.args[0]));
  if (c.state.status == kStatusStopped) return absl::FailedPreconditionError("container not running");
  if (f.stats) {
    std::cout << StatsEvent(c).dump() << std::endl;
    return 0;
  }
  uint64_t ooms = c.cgroup().OomKills();
  for (;;) {
    absl::StatusOr<Container> now = Container::Load(root, f.args[0]);
    if (!now.ok() || now->state.status == kStatusStopped) return 0;
    uint64_t o = now->cgroup().OomKills();
    if (o > ooms) {
      std::cout << nlohmann::ordered_json{{"type", "oom"}, {"id", now->state.id}}.dump() << std::endl;
      ooms = o;
    }
    std::cout << StatsEvent(*now).dump() << std::endl;
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(interval));
  }
}

}  // namespace

CommandRunner SetupEvents(CLI::App& sub) {
  auto f = std::make_shared<EventsFlags>();
  sub.add_option("container-id", f->args, "the container");
  sub.add_flag("--stats", f->stats, "display the container's stats once, then exit");
  sub.add_option("--interval", f->interval, "time between stats reports (default 5s)");
  return [f](const CommandContext& ctx) { return Events(*f, ctx); };
}

}  // namespace palisade::cli
