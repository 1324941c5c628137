#include "runsc/sandbox/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"

namespace palisade::sandbox {
namespace {

// v1 controllers palisade uses, by the directory they are mounted at.
constexpr const char* kV1Controllers[] = {"memory", "pids", "cpu", "freezer", "cpuacct"};

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string ReadTrimmed(const std::string& file) {
  std::ifstream f(file);
  std::stringstream ss;
  ss << f.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

absl::Status WriteValue(const std::string& file, const std::string& value) {
  std::ofstream f(file);
  if (!f) return ErrnoStatus(errno, "open", file);
  f << value;
  f.flush();
  if (!f) return ErrnoStatus(errno, absl::StrCat("write \"", value, "\" to"), file);
  return absl::OkStatus();
}

uint64_t ReadU64(const std::string& file) {
  uint64_t v = 0;
  (void)absl::SimpleAtoi(ReadTrimmed(file), &v);
  return v;
}

// "key value" lines (memory.stat, cpu.stat, memory.events).
uint64_t KeyValue(const std::string& file, const std::string& key) {
  std::ifstream f(file);
  std::string k;
  uint64_t v;
  while (f >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

// Does the unified hierarchy at root offer these controllers?
bool UnifiedHas(const std::string& root, std::initializer_list<const char*> wanted) {
  std::string ctrls = ReadTrimmed(root + "/cgroup.controllers");
  std::vector<std::string> have = absl::StrSplit(ctrls, ' ', absl::SkipEmpty());
  for (const char* w : wanted) {
    if (std::find(have.begin(), have.end(), w) == have.end()) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<Resources> ParseResources(const nlohmann::json& j) {
  Resources r;
  if (j.is_null()) return r;
  if (!j.is_object()) return absl::InvalidArgumentError("linux.resources must be an object");
  try {
    for (auto& [key, value] : j.items()) {
      if (key == "memory") {
        for (auto& [mk, mv] : value.items()) {
          if (mk == "limit") r.memory_limit = mv.get<int64_t>();
          else if (mk == "swap") r.memory_swap = mv.get<int64_t>();
          else spdlog::warn("linux.resources.memory.{} is not supported: ignored", mk);
        }
      } else if (key == "cpu") {
        for (auto& [ck, cv] : value.items()) {
          if (ck == "shares") r.cpu_shares = cv.get<uint64_t>();
          else if (ck == "quota") r.cpu_quota = cv.get<int64_t>();
          else if (ck == "period") r.cpu_period = cv.get<uint64_t>();
          else spdlog::warn("linux.resources.cpu.{} is not supported: ignored", ck);
        }
      } else if (key == "pids") {
        if (value.contains("limit")) r.pids_limit = value["limit"].get<int64_t>();
      } else if (key == "devices") {
        // The sandbox has no host devices: the sentry serves its own /dev.
      } else {
        spdlog::warn("linux.resources.{} is not supported: ignored", key);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("linux.resources: ", e.what()));
  }
  if (r.memory_limit && *r.memory_limit == 0) r.memory_limit.reset();
  return r;
}

std::string CgroupPathFor(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.empty()) return absl::StrCat("/palisade/", id);
  std::vector<std::string> parts = absl::StrSplit(cgroups_path, ':');
  if (parts.size() == 3 && cgroups_path[0] != '/') {
    // systemd form: slice:prefix:name.
    std::string slice = parts[0].empty() ? "system.slice" : parts[0];
    return absl::StrCat("/", slice, "/", parts[1], "-", parts[2], ".scope");
  }
  std::string p = std::filesystem::path("/" + cgroups_path).lexically_normal().string();
  return p;
}

Cgroup Cgroup::Open(const std::string& path, const std::string& mount_root) {
  Cgroup cg;
  cg.root_ = mount_root;
  cg.path_ = path;
  // A pure v2 host has cgroup.controllers at the root; a hybrid one has the
  // unified hierarchy at unified/, used only if it has the controllers.
  cg.v2_ = UnifiedHas(mount_root, {"memory", "pids"});
  return cg;
}

std::string Cgroup::Dir(const std::string& controller) const {
  if (v2_) return root_ + path_;
  return absl::StrCat(root_, "/", controller, path_);
}

absl::StatusOr<Cgroup> Cgroup::Create(const std::string& path, const Resources& res,
                                      const std::string& mount_root) {
  Cgroup cg = Open(path, mount_root);
  std::vector<std::string> dirs;
  if (cg.v2_) {
    // Enable the controllers on the way down, as runc does.
    std::filesystem::path p = "/";
    for (const auto& part : std::filesystem::path(path).relative_path()) {
      (void)WriteValue(mount_root + p.string() + "/cgroup.subtree_control", "+memory +pids +cpu");
      p /= part;
    }
    dirs.push_back(cg.Dir(""));
  } else {
    for (const char* c : kV1Controllers) {
      if (!Exists(absl::StrCat(mount_root, "/", c))) continue;
      dirs.push_back(cg.Dir(c));
    }
    if (dirs.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no cgroup hierarchy found under ", mount_root));
    }
  }
  for (const std::string& d : dirs) {
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    if (ec) return ErrnoStatus(ec.value(), "create cgroup", d);
  }
  auto set = [&](const std::string& controller, const std::string& file,
                 const std::string& value) -> absl::Status {
    std::string f = cg.Dir(controller) + "/" + file;
    if (!Exists(f)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot apply limit: ", f, " does not exist (controller not available)"));
    }
    return WriteValue(f, value);
  };
  absl::Status s;
  auto apply = [&](absl::Status st) {
    if (s.ok() && !st.ok()) s = st;
  };
  if (cg.v2_) {
    if (res.memory_limit) {
      apply(set("", "memory.max", *res.memory_limit < 0 ? "max" : std::to_string(*res.memory_limit)));
      // One OOM kill takes the whole sandbox: a sentry without its stubs
      // (or the reverse) is no use.
      (void)WriteValue(cg.Dir("") + "/memory.oom.group", "1");
      if (!res.memory_swap && Exists(cg.Dir("") + "/memory.swap.max")) {
        (void)WriteValue(cg.Dir("") + "/memory.swap.max", "0");
      }
    }
    if (res.memory_swap && res.memory_limit && Exists(cg.Dir("") + "/memory.swap.max")) {
      int64_t swap = *res.memory_swap < 0 ? -1 : *res.memory_swap - *res.memory_limit;
      apply(set("", "memory.swap.max", swap < 0 ? "max" : std::to_string(swap)));
    }
    if (res.cpu_shares) {
      // runc's conversion of shares (2..262144) to weight (1..10000).
      uint64_t shares = std::clamp<uint64_t>(*res.cpu_shares, 2, 262144);
      apply(set("", "cpu.weight", std::to_string(1 + ((shares - 2) * 9999) / 262142)));
    }
    if (res.cpu_quota || res.cpu_period) {
      std::string quota = res.cpu_quota && *res.cpu_quota > 0 ? std::to_string(*res.cpu_quota) : "max";
      apply(set("", "cpu.max", absl::StrCat(quota, " ", res.cpu_period.value_or(100000))));
    }
    if (res.pids_limit) {
      apply(set("", "pids.max", *res.pids_limit <= 0 ? "max" : std::to_string(*res.pids_limit)));
    }
  } else {
    if (res.memory_limit) {
      apply(set("memory", "memory.limit_in_bytes", std::to_string(*res.memory_limit)));
      // No swap unless asked, as runc: swap would turn an OOM kill into a
      // crawl. memsw needs swap accounting; without it there is no swap
      // to limit.
      std::string memsw = cg.Dir("memory") + "/memory.memsw.limit_in_bytes";
      if (Exists(memsw)) {
        int64_t v = res.memory_swap.value_or(*res.memory_limit);
        apply(WriteValue(memsw, std::to_string(v)));
      }
    }
    if (res.cpu_shares) apply(set("cpu", "cpu.shares", std::to_string(*res.cpu_shares)));
    if (res.cpu_period) apply(set("cpu", "cpu.cfs_period_us", std::to_string(*res.cpu_period)));
    if (res.cpu_quota) apply(set("cpu", "cpu.cfs_quota_us", std::to_string(*res.cpu_quota)));
    if (res.pids_limit) {
      apply(set("pids", "pids.max", *res.pids_limit <= 0 ? "max" : std::to_string(*res.pids_limit)));
    }
  }
  if (!s.ok()) {
    (void)cg.Destroy();
    return s;
  }
  return cg;
}

std::vector<std::string> Cgroup::ProcsFiles() const {
  std::vector<std::string> out;
  if (v2_) {
    out.push_back(Dir("") + "/cgroup.procs");
    return out;
  }
  for (const char* c : kV1Controllers) {
    std::string f = Dir(c) + "/cgroup.procs";
    if (Exists(f)) out.push_back(f);
  }
  return out;
}

std::vector<pid_t> Cgroup::Pids() const {
  std::vector<pid_t> pids;
  std::ifstream f(v2_ ? Dir("") + "/cgroup.procs" : Dir("pids") + "/cgroup.procs");
  if (!f && !v2_) f.open(Dir("memory") + "/cgroup.procs");
  pid_t p;
  while (f >> p) pids.push_back(p);
  return pids;
}

absl::Status Cgroup::Freeze(bool frozen) const {
  if (v2_) return WriteValue(Dir("") + "/cgroup.freeze", frozen ? "1" : "0");
  std::string f = Dir("freezer") + "/freezer.state";
  if (!Exists(f)) return absl::FailedPreconditionError("the freezer cgroup is not available");
  PAL_RETURN_IF_ERROR(WriteValue(f, frozen ? "FROZEN" : "THAWED"));
  // v1 freezing is asynchronous: wait until it settles.
  for (int i = 0; i < 500; i++) {
    std::string st = ReadTrimmed(f);
    if (st == (frozen ? "FROZEN" : "THAWED")) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError("the freezer cgroup did not settle");
}

bool Cgroup::Frozen() const {
  if (v2_) return KeyValue(Dir("") + "/cgroup.events", "frozen") == 1;
  return ReadTrimmed(Dir("freezer") + "/freezer.state") == "FROZEN";
}

absl::Status Cgroup::Destroy() const {
  // Frozen processes cannot die: thaw first.
  if (Frozen()) (void)Freeze(false);
  std::vector<std::string> dirs;
  if (v2_) {
    dirs.push_back(Dir(""));
  } else {
    for (const char* c : kV1Controllers) dirs.push_back(Dir(c));
  }
  // Processes killed a moment ago are still exiting: retry soon at first
  // (a container's `run` waits for this), then every 25 ms (~5 s in all).
  for (int attempt = 0; attempt < 210; attempt++) {
    std::vector<pid_t> pids = Pids();
    for (pid_t p : pids) kill(p, SIGKILL);
    bool all_gone = true;
    for (const std::string& d : dirs) {
      if (!Exists(d)) continue;
      if (rmdir(d.c_str()) == 0 || errno == ENOENT) continue;
      // Child cgroups (someone else's) or plain files: not ours to wait for.
      if (errno == ENOTEMPTY) return ErrnoStatus(errno, "remove cgroup", d);
      all_gone = false;
    }
    if (all_gone) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::microseconds(attempt < 5 ? 1000 << attempt : 25000));
  }
  return absl::DeadlineExceededError(absl::StrCat("cgroup ", path_, " did not empty"));
}

nlohmann::ordered_json Cgroup::Stats() const {
  nlohmann::ordered_json data;
  if (v2_) {
    std::string d = Dir("");
    uint64_t usage_us = KeyValue(d + "/cpu.stat", "usage_usec");
    data["cpu"] = {{"usage",
                    {{"total", usage_us * 1000},
                     {"kernel", KeyValue(d + "/cpu.stat", "system_usec") * 1000},
                     {"user", KeyValue(d + "/cpu.stat", "user_usec") * 1000}}},
                   {"throttling",
                    {{"periods", KeyValue(d + "/cpu.stat", "nr_periods")},
                     {"throttledPeriods", KeyValue(d + "/cpu.stat", "nr_throttled")},
                     {"throttledTime", KeyValue(d + "/cpu.stat", "throttled_usec") * 1000}}}};
    std::string max = ReadTrimmed(d + "/memory.max");
    uint64_t limit = max == "max" || max.empty() ? UINT64_MAX : std::stoull(max);
    data["memory"] = {{"usage",
                       {{"limit", limit},
                        {"usage", ReadU64(d + "/memory.current")},
                        {"max", ReadU64(d + "/memory.peak")},
                        {"failcnt", KeyValue(d + "/memory.events", "max")}}},
                      {"raw", {{"oom_kill", KeyValue(d + "/memory.events", "oom_kill")}}}};
    std::string pmax = ReadTrimmed(d + "/pids.max");
    data["pids"] = {{"current", ReadU64(d + "/pids.current")},
                    {"limit", pmax == "max" || pmax.empty() ? 0 : std::stoull(pmax)}};
  } else {
    std::string cpuacct = Exists(Dir("cpuacct")) ? Dir("cpuacct") : Dir("cpu");
    data["cpu"] = {{"usage",
                    {{"total", ReadU64(cpuacct + "/cpuacct.usage")},
                     {"kernel", ReadU64(cpuacct + "/cpuacct.usage_sys")},
                     {"user", ReadU64(cpuacct + "/cpuacct.usage_user")}}},
                   {"throttling",
                    {{"periods", KeyValue(Dir("cpu") + "/cpu.stat", "nr_periods")},
                     {"throttledPeriods", KeyValue(Dir("cpu") + "/cpu.stat", "nr_throttled")},
                     {"throttledTime", KeyValue(Dir("cpu") + "/cpu.stat", "throttled_time")}}}};
    std::string m = Dir("memory");
    data["memory"] = {{"usage",
                       {{"limit", ReadU64(m + "/memory.limit_in_bytes")},
                        {"usage", ReadU64(m + "/memory.usage_in_bytes")},
                        {"max", ReadU64(m + "/memory.max_usage_in_bytes")},
                        {"failcnt", ReadU64(m + "/memory.failcnt")}}},
                      {"raw", {{"oom_kill", KeyValue(m + "/memory.oom_control", "oom_kill")}}}};
    std::string pmax = ReadTrimmed(Dir("pids") + "/pids.max");
    data["pids"] = {{"current", ReadU64(Dir("pids") + "/pids.current")},
                    {"limit", pmax == "max" || pmax.empty() ? 0 : std::stoull(pmax)}};
  }
  return data;
}

uint64_t Cgroup::OomKills() const {
  if (v2_) return KeyValue(Dir("") + "/memory.events", "oom_kill");
  return KeyValue(Dir("memory") + "/memory.oom_control", "oom_kill");
}

}  // namespace palisade::sandbox
