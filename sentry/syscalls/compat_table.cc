#include "sentry/syscalls/compat_table.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sentry/syscalls/syscall_table.h"

namespace palisade {
namespace {

const char* LevelName(SupportLevel l) {
  switch (l) {
    case SupportLevel::kSupported: return "implemented";
    case SupportLevel::kPartial: return "partial";
    case SupportLevel::kUnimplemented: return "ENOSYS";
  }
  return "?";
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

absl::StatusOr<std::string> RenderSyscallTable(std::string_view format) {
  size_t n = 0;
  const SyscallEntry* rows = SyscallRows(&n);
  int counts[3] = {0, 0, 0};
  for (size_t i = 0; i < n; i++) counts[static_cast<int>(rows[i].support)]++;
  std::string out;
  if (format == "markdown") {
    absl::StrAppend(&out, "# Syscall compatibility (x86-64)\n\n",
                    "Generated from the sentry's syscall table by `palisade syscalls --format=markdown`;\n",
                    "do not edit by hand (a test checks it matches the binary).\n\n",
                    "Summary: ", counts[0], " implemented, ", counts[1], " partial, ", counts[2],
                    " return ENOSYS, of ", n, " syscalls.\n\n",
                    "| nr | name | status | note |\n|---:|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
      const SyscallEntry& e = rows[i];
      absl::StrAppend(&out, "| ", e.nr, " | ", e.name, " | ", LevelName(e.support), " | ", e.note, " |\n");
    }
    return out;
  }
  if (format == "csv") {
    out = "nr,name,status,note\n";
    for (size_t i = 0; i < n; i++) {
      const SyscallEntry& e = rows[i];
      absl::StrAppend(&out, e.nr, ",", e.name, ",", LevelName(e.support), ",", CsvField(e.note), "\n");
    }
    return out;
  }
  if (format == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (size_t i = 0; i < n; i++) {
      const SyscallEntry& e = rows[i];
      j.push_back({{"nr", e.nr}, {"name", e.name}, {"status", LevelName(e.support)}, {"note", e.note}});
    }
    return j.dump(1) + "\n";
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown --format \"", std::string(format), "\" (want markdown, csv or json)"));
}

}  // namespace palisade
