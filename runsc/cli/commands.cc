#include "runsc/cli/commands.h"

namespace palisade::cli {
namespace {

constexpr CommandSpec kCommands[] = {
    {"create", CommandGroup::kOciStandard, "create a container (it waits for start)", &SetupCreate},
    {"start", CommandGroup::kOciStandard, "start a created container", &SetupStart},
    {"state", CommandGroup::kOciStandard, "output the state of a container", &SetupState},
    {"kill", CommandGroup::kOciStandard, "send a signal (default SIGTERM) to the container's init",
     &SetupKill},
    {"delete", CommandGroup::kOciStandard, "delete a container and everything it holds",
     &SetupDelete},
    {"run", CommandGroup::kCommon, "create and start a container", &SetupRun},
    {"exec", CommandGroup::kCommon, "run a new process inside a running container", &SetupExec},
    {"list", CommandGroup::kCommon, "list the containers under --root", &SetupList},
    {"ps", CommandGroup::kCommon, "list the processes of a container", &SetupPs},
    {"events", CommandGroup::kCommon, "resource statistics of a container", &SetupEvents},
    {"pause", CommandGroup::kCommon, "freeze every process of a container", &SetupPause},
    {"resume", CommandGroup::kCommon, "thaw a paused container", &SetupResume},
    {"features", CommandGroup::kCommon, "show the features this runtime supports", &SetupFeatures},
    {"spec", CommandGroup::kCommon, "create a new specification file (config.json)", &SetupSpec},
    {"syscalls", CommandGroup::kDebug, "print the syscall compatibility table", &SetupSyscalls},
    {"boot", CommandGroup::kInternal, "run a sandbox (started by create)", &SetupBoot},
    {"gofer", CommandGroup::kInternal, "serve a sandbox's files (started by palisade itself)", &SetupGofer},
};

}  // namespace

std::span<const CommandSpec> Commands() { return kCommands; }

}  // namespace palisade::cli
