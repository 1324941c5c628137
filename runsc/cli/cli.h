// The `palisade` command line: parses runc's global flags and dispatches to
// the subcommand registered in commands.cc. main() is just
//   return palisade::cli::RunCli(argc, argv, {.run_sandbox = &RunSandbox});
// Logging is set up from the global flags before anything else can fail,
// so every error reaches stderr and the --log file; errors exit with 1.
#pragma once

#include <string>
#include <vector>

#include "runsc/cli/command.h"

namespace palisade::cli {

// `args` excludes argv[0]. Returns the process exit status.
int RunCli(std::vector<std::string> args, const CliDeps& deps);
int RunCli(int argc, char** argv, const CliDeps& deps);

}  // namespace palisade::cli
