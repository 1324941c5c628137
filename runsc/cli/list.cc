// `palisade list`: the containers under --root, as runc's table
// (tabwriter, min width 12, padding 3) or --format json, or -q ids.
#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runsc/cli/commands.h"
#include "runsc/container/container.h"
#include "runsc/oci/bundle.h"

namespace palisade::cli {
namespace {

struct ListFlags {
  std::string format = "table";
  bool quiet = false;
};

std::string OwnerName(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return "";
  if (struct passwd* pw = getpwuid(st.st_uid)) return pw->pw_name;
  return absl::StrCat("#", st.st_uid);
}

absl::StatusOr<int> List(const ListFlags& f, const CommandContext& ctx) {
  if (f.format != "table" && f.format != "json") {
    return absl::InvalidArgumentError(absl::StrCat("invalid format option"));
  }
  const std::string root = oci::AbsolutePath(ctx.global.root);
  std::vector<std::string> ids;
  if (DIR* d = opendir(root.c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") ids.push_back(name);
    }
    closedir(d);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::pair<ContainerState, std::string>> rows;
  for (const std::string& id : ids) {
    absl::StatusOr<Container> c = Container::Load(root, id);
    if (!c.ok()) continue;  // being created or deleted
    rows.emplace_back(c->state, OwnerName(c->dir().path()));
  }
  if (f.quiet) {
    for (auto& [s, owner] : rows) std::cout << s.id << "\n";
    return 0;
  }
  if (f.format == "json") {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (auto& [s, owner] : rows) {
      ContainerState shown = s;
      shown.owner = owner;
      arr.push_back(StateToJson(shown));
    }
    std::cout << (rows.empty() ? "null" : arr.dump()) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> table = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (auto& [s, owner] : rows) {
    table.push_back({s.id, std::to_string(s.pid), s.status, s.bundle, s.created, owner});
  }
  std::vector<size_t> width(6, 0);
  for (auto& row : table) {
    for (size_t i = 0; i < row.size(); i++) width[i] = std::max(width[i], std::max<size_t>(row[i].size() + 3, 12));
  }
  for (auto& row : table) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size(), ' ');
    }
    std::cout << line << "\n";
  }
  return 0;
}

}  // namespace

CommandRunner SetupList(CLI::App& sub) {
  auto f = std::make_shared<ListFlags>();
  sub.add_option("-f,--format", f->format, "table or json");
  sub.add_flag("-q,--quiet", f->quiet, "display only container IDs");
  return [f](const CommandContext& ctx) { return List(*f, ctx); };
}

}  // namespace palisade::cli
