// The palisade binary: the OCI front end, dispatching to the subcommands in
// runsc/cli/commands.cc. The sentry is linked in: `palisade boot` (a
// re-exec by create/run) runs it in its own process.
#include "runsc/cli/cli.h"
#include "sentry/boot.h"
#include "sentry/control/boot_main.h"
#include "sentry/syscalls/compat_table.h"

int main(int argc, char** argv) {
  return palisade::cli::RunCli(argc, argv,
                               {.boot = &palisade::BootMain,
                                .syscall_table = [](const std::string& f) { return palisade::RenderSyscallTable(f); },
                                .launch_gofer = &palisade::LaunchGofer});
}
