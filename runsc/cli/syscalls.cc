// `palisade syscalls`: print the sentry's syscall compatibility table
// (markdown, csv or json). docs/compatibility.md is its markdown output.
#include <cstdio>
#include <memory>
#include <string>

#include "runsc/cli/commands.h"

namespace palisade::cli {

CommandRunner SetupSyscalls(CLI::App& sub) {
  auto format = std::make_shared<std::string>("markdown");
  sub.add_option("--format", *format, "markdown, csv or json");
  return [format](const CommandContext& ctx) -> absl::StatusOr<int> {
    if (!ctx.deps.syscall_table) return absl::UnimplementedError("syscall table not available in this build");
    absl::StatusOr<std::string> text = ctx.deps.syscall_table(*format);
    if (!text.ok()) return text.status();
    fwrite(text->data(), 1, text->size(), stdout);
    return 0;
  };
}

}  // namespace palisade::cli
