// The steps `create`, `run` and `start` share: claim the id, set up the
// cgroup and the sandbox process at its start barrier, run the creation
// hooks (create); release the barrier and run the start hooks (start).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runsc/cli/command.h"
#include "runsc/container/container.h"

namespace palisade::cli {

// The flags `create` and `run` have in common.
struct CreateFlags {
  std::vector<std::string> args;
  std::string bundle;
  std::string pid_file;
  std::string console_socket;
  std::string pidfd_socket;  // accepted, unused
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
};

void AddCreateFlags(CLI::App& sub, CreateFlags& f);

struct CreateMode {
  // `run` in the foreground: a terminal config uses the caller's own tty
  // (when stdin is one) instead of a console socket.
  bool foreground = false;
  // `run --report`: where the sentry writes its workload report (empty: none).
  struct Report {
    std::string path;
    std::string format = "json";
  } report{};
};

// Returns the container at its start barrier (status "created").
absl::StatusOr<Container> CreateContainer(const CreateFlags& f, const CommandContext& ctx,
                                          CreateMode mode);

// Releases the start barrier of a created container.
absl::Status StartContainer(Container& c);

// The global flags a re-exec of palisade (boot) inherits.
std::vector<std::string> InheritedGlobalArgs(const GlobalOptions& g);

}  // namespace palisade::cli
