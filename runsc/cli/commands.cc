#include "runsc/cli/commands.h"

namespace palisade::cli {
namespace {

constexpr CommandSpec kCommands[] = {
    {"run", CommandGroup::kOciStandard, "create and run a container in the foreground", &SetupRun},
    {"spec", CommandGroup::kCommon, "create a new specification file (config.json)", &SetupSpec},
    {"syscalls", CommandGroup::kDebug, "print the syscall compatibility table", &SetupSyscalls},
    {"gofer", CommandGroup::kInternal, "serve a sandbox's files (started by palisade itself)", &SetupGofer},
};

}  // namespace

std::span<const CommandSpec> Commands() { return kCommands; }

}  // namespace palisade::cli
