// What a subcommand is to the dispatcher: a row of the command registry
// (commands.cc) with its name, group, synopsis and a setup function. Setup
// declares the subcommand's flags on its CLI::App and returns the runner
// that executes it once parsing is done and logging is up.
//
//   CommandRunner SetupFoo(CLI::App& sub) {
//     auto flags = std::make_shared<FooFlags>();
//     sub.add_flag("--bar", flags->bar, "...");
//     return [flags](const CommandContext& ctx) { return Foo(*flags, ctx); };
//   }
#pragma once

#include <functional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "runsc/cli/global_flags.h"
#include "runsc/sandbox/gofer_launch.h"
#include "sentry/boot.h"

namespace palisade::cli {

// As youki groups them: what the OCI runtime spec defines, what runc adds
// and callers use, debugging aids, and hidden re-exec entry points.
enum class CommandGroup { kOciStandard, kCommon, kDebug, kInternal };

// What the front end reaches outside itself, so tests can fake it.
struct CliDeps {
  // Runs a sandbox to completion: RunSandbox() in the real binary.
  std::function<absl::StatusOr<int>(const BootConfig&)> run_sandbox;
  // Renders the sentry's syscall table: RenderSyscallTable() in the real binary.
  std::function<absl::StatusOr<std::string>(const std::string& format)> syscall_table;
  // Starts the sandbox's gofer: LaunchGofer() in the real binary; null
  // (tests) runs the sandbox without one.
  std::function<absl::StatusOr<GoferProcess>(const GoferSpec&)> launch_gofer;
};

struct CommandContext {
  const GlobalOptions& global;
  const CliDeps& deps;
};

// Returns the process exit code, or an error (reported, exit status 1).
using CommandRunner = std::function<absl::StatusOr<int>(const CommandContext&)>;

struct CommandSpec {
  absl::string_view name;
  CommandGroup group;
  absl::string_view synopsis;
  CommandRunner (*setup)(CLI::App& sub);
};

// runc's checkArgs(exactArgs): `"run" requires exactly 1 argument(s)`.
absl::Status RequireExactArgs(absl::string_view command, const std::vector<std::string>& args,
                              size_t count);

}  // namespace palisade::cli
