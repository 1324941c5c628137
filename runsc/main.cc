// The palisade binary: the OCI front end, dispatching to the subcommands in
// runsc/cli/commands.cc. The sentry is linked in and runs in-process.
#include "runsc/cli/cli.h"
#include "sentry/boot.h"
#include "sentry/syscalls/compat_table.h"

int main(int argc, char** argv) {
  return palisade::cli::RunCli(argc, argv,
                               {.run_sandbox = &palisade::RunSandbox,
                                .syscall_table = [](const std::string& f) { return palisade::RenderSyscallTable(f); },
                                .launch_gofer = &palisade::LaunchGofer});
}
