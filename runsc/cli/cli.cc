#include "runsc/cli/cli.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runsc/cli/commands.h"
#include "runsc/cli/version.h"
#include "spdlog/spdlog.h"

namespace palisade::cli {
namespace {

// Reports an error the way runc does: on stderr and, when the logger has a
// --log file, as an "error" line there.
int Fail(absl::string_view message) {
  spdlog::error("{}", std::string(message));
  return 1;
}

std::string CommandNames() {
  std::vector<absl::string_view> names;
  for (const CommandSpec& c : Commands()) {
    if (c.group != CommandGroup::kInternal) names.push_back(c.name);
  }
  return absl::StrJoin(names, ", ");
}

// Splits what CLI11 left over at the top level: flags are accepted (with a
// warning, later); a bare word there is a command we do not have.
absl::Status SortExtras(const std::vector<std::string>& extras, GlobalOptions& global,
                        bool have_command) {
  for (const std::string& arg : extras) {
    if (arg.size() > 1 && arg[0] == '-') {
      global.unknown_flags.push_back(arg);
    } else if (!have_command) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown command \"", arg, "\" (commands: ", CommandNames(), ")"));
    }
    // Else: a value of an unknown flag (`--foo bar run ...`); dropped with it.
  }
  return absl::OkStatus();
}

}  // namespace

int RunCli(std::vector<std::string> args, const CliDeps& deps) {
  // Until the flags are known, log to stderr only: stdout is the container's.
  (void)InitLogging({});

  CLI::App app("palisade: an OCI runtime that runs containers in a user-space kernel",
               "palisade");
  GlobalOptions global;
  AddGlobalFlags(app, global);
  bool version = false;
  app.add_flag("-v,--version", version, "print the version");

  std::vector<CLI::App*> subs;
  std::vector<CommandRunner> runners;
  for (const CommandSpec& c : Commands()) {
    CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.synopsis));
    if (c.group == CommandGroup::kInternal) sub->group("");  // hidden from --help
    runners.push_back(c.setup(*sub));
    subs.push_back(sub);
  }
  // Only the top level tolerates unknown flags; subcommands were created
  // before this, so they still reject theirs as runc does.
  app.allow_extras();

  args = NormalizeGoStyleFlags(std::move(args));
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector reversed
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    // The global flags parsed so far are set (trigger_on_parse), so the
    // error still reaches --log when it was given.
    (void)InitLogging(ToLogOptions(global));
    return Fail(e.what());
  }
  if (version) {
    std::cout << VersionText();
    return 0;
  }
  if (absl::Status s = InitLogging(ToLogOptions(global)); !s.ok()) return Fail(s.message());

  size_t chosen = subs.size();
  for (size_t i = 0; i < subs.size(); ++i) {
    if (subs[i]->parsed()) chosen = i;
  }
  if (absl::Status s = SortExtras(app.remaining(), global, chosen < subs.size()); !s.ok()) {
    return Fail(s.message());
  }
  WarnAboutIgnoredGlobalFlags(global);
  if (chosen == subs.size()) {
    std::cout << app.help();
    return 0;
  }

  CommandContext ctx{.global = global, .deps = deps};
  absl::StatusOr<int> result = runners[chosen](ctx);
  if (!result.ok()) return Fail(result.status().message());
  return *result;
}

int RunCli(int argc, char** argv, const CliDeps& deps) {
  return RunCli(std::vector<std::string>(argv + 1, argv + argc), deps);
}

}  // namespace palisade::cli
