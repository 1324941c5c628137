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
CommandRunner SetupBoot(CLI::App& sub);      // boot.cc
CommandRunner SetupCreate(CLI::App& sub);    // create.cc
CommandRunner SetupDelete(CLI::App& sub);    // delete.cc
CommandRunner SetupEvents(CLI::App& sub);    // events.cc
CommandRunner SetupExec(CLI::App& sub);      // exec.cc
CommandRunner SetupFeatures(CLI::App& sub);  // features.cc
CommandRunner SetupKill(CLI::App& sub);      // kill.cc
CommandRunner SetupList(CLI::App& sub);      // list.cc
CommandRunner SetupPause(CLI::App& sub);     // pause.cc
CommandRunner SetupPs(CLI::App& sub);        // ps.cc
CommandRunner SetupResume(CLI::App& sub);    // pause.cc
CommandRunner SetupRun(CLI::App& sub);       // run.cc
CommandRunner SetupSpec(CLI::App& sub);      // spec.cc
CommandRunner SetupStart(CLI::App& sub);     // start.cc
CommandRunner SetupState(CLI::App& sub);     // state.cc
CommandRunner SetupSyscalls(CLI::App& sub);  // syscalls.cc
CommandRunner SetupGofer(CLI::App& sub);     // gofer.cc

}  // namespace palisade::cli
