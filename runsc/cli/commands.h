// The command registry: one row per subcommand, as data. Adding a command
// means writing runsc/cli/<name>.cc with a Setup function and adding a row.
//
//   for (const CommandSpec& c : Commands()) app.add_subcommand(...);
#pragma once

#include <span>

#include "runsc/cli/command.h"

namespace palisade::cli {

std::span<const CommandSpec> Commands();

// Setup functions, one per file in runsc/cli/.
CommandRunner SetupRun(CLI::App& sub);   // run.cc
CommandRunner SetupSpec(CLI::App& sub);  // spec.cc
CommandRunner SetupSyscalls(CLI::App& sub);  // syscalls.cc
CommandRunner SetupGofer(CLI::App& sub);     // gofer.cc

}  // namespace palisade::cli
