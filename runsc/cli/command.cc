#include "runsc/cli/command.h"

#include "absl/strings/str_cat.h"

namespace palisade::cli {

absl::Status RequireExactArgs(absl::string_view command, const std::vector<std::string>& args,
                              size_t count) {
  if (args.size() == count) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("\"", command, "\" requires exactly ", count, " argument(s)"));
}

}  // namespace palisade::cli
