#include "sentry/syscalls/report.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/errno.h"
#include "spdlog/spdlog.h"
#include "sentry/syscalls/ioctl_names.h"

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

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

}  // namespace

SyscallRecorder::SyscallRecorder() {
  for (auto& c : calls_) c.store(0, std::memory_order_relaxed);
}

void SyscallRecorder::RecordSyscall(int nr) {
  if (nr >= 0 && nr < kMaxSyscall) {
    calls_[nr].fetch_add(1, std::memory_order_relaxed);
  } else {
    out_of_range_calls_.fetch_add(1, std::memory_order_relaxed);
  }
}

void SyscallRecorder::RecordIoctl(uint64_t request, int err, std::string_view file_kind) {
  std::lock_guard<std::mutex> l(mu_);
  ioctls_[{request, err, std::string(file_kind)}]++;
}

void SyscallRecorder::RecordMissingPath(std::string_view path, std::string_view syscall) {
  std::string folded = FoldPath(path);
  std::lock_guard<std::mutex> l(mu_);
  paths_[{std::move(folded), std::string(syscall)}]++;
}

std::string SyscallRecorder::FoldPath(std::string_view path) {
  std::string out;
  for (absl::string_view part : absl::StrSplit(absl::string_view(path.data(), path.size()), '/')) {
    if (part.empty()) continue;  // also folds "//" and a trailing "/"
    absl::StrAppend(&out, "/", AllDigits(part) ? "[N]" : part);
  }
  return out.empty() ? "/" : out;
}

nlohmann::json SyscallRecorder::ToJson() const {
  nlohmann::json all = nlohmann::json::object();
  nlohmann::json unsupported = nlohmann::json::array();
  for (int nr = 0; nr < kMaxSyscall; nr++) {
    uint64_t n = calls_[nr].load(std::memory_order_relaxed);
    if (n == 0) continue;
    const SyscallEntry* e = LookupSyscall(nr);
    std::string name = e ? e->name : absl::StrCat("syscall_", nr);
    all[name] = n;
    if (e && e->handler && e->support == SupportLevel::kSupported) continue;
    unsupported.push_back({{"name", name},
                           {"nr", nr},
                           {"count", n},
                           {"status", e ? LevelName(e->handler ? e->support : SupportLevel::kUnimplemented)
                                        : "unknown"},
                           {"note", e ? e->note : "not in the x86-64 syscall table"}});
  }
  if (uint64_t n = out_of_range_calls_.load(std::memory_order_relaxed)) {
    unsupported.push_back({{"name", "out-of-range"}, {"nr", -1}, {"count", n}, {"status", "unknown"},
                           {"note", "syscall numbers outside 0..511"}});
  }
  nlohmann::json ioctls = nlohmann::json::array();
  nlohmann::json paths = nlohmann::json::array();
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, n] : ioctls_) {
      const auto& [request, err, kind] = key;
      ioctls.push_back({{"request", absl::StrCat("0x", absl::Hex(request))},
                        {"name", IoctlName(request)},
                        {"errno", Errno(err).Name()},
                        {"file", kind},
                        {"count", n}});
    }
    for (const auto& [key, n] : paths_) {
      paths.push_back({{"path", key.first}, {"syscall", key.second}, {"count", n}});
    }
  }
  return {{"syscalls", all}, {"unsupported_syscalls", unsupported}, {"ioctls", ioctls},
          {"missing_paths", paths}};
}

std::string SyscallRecorder::ToText() const {
  nlohmann::json j = ToJson();
  uint64_t total = 0;
  for (const auto& [name, n] : j["syscalls"].items()) total += n.get<uint64_t>();
  std::string out = absl::StrCat("palisade workload report\n\n", j["syscalls"].size(),
                                 " distinct syscalls, ", total, " calls in all.\n\n");
  auto section = [&](const char* title, const nlohmann::json& rows, const char* none) {
    absl::StrAppend(&out, title, ":\n");
    if (rows.empty()) absl::StrAppend(&out, "  ", none, "\n");
    return rows.empty();
  };
  if (!section("Unimplemented or partial syscalls", j["unsupported_syscalls"], "none")) {
    for (const auto& r : j["unsupported_syscalls"]) {
      absl::StrAppend(&out, "  ", r["name"].get<std::string>(), " (", r["nr"].get<int>(), "): ",
                      r["count"].get<uint64_t>(), " calls, ", r["status"].get<std::string>());
      std::string note = r["note"];
      if (!note.empty()) absl::StrAppend(&out, " - ", note);
      out += "\n";
    }
  }
  out += "\n";
  if (!section("ioctl requests not served (ENOTTY is also Linux's answer when the file type lacks the request)",
               j["ioctls"], "none")) {
    for (const auto& r : j["ioctls"]) {
      absl::StrAppend(&out, "  ", r["name"].get<std::string>(), " (", r["request"].get<std::string>(),
                      ") on ", r["file"].get<std::string>(), " file: ", r["count"].get<uint64_t>(),
                      " calls, ", r["errno"].get<std::string>(), "\n");
    }
  }
  out += "\n";
  if (!section("/proc and /sys paths not found", j["missing_paths"], "none")) {
    for (const auto& r : j["missing_paths"]) {
      absl::StrAppend(&out, "  ", r["path"].get<std::string>(), " (", r["syscall"].get<std::string>(),
                      "): ", r["count"].get<uint64_t>(), " calls\n");
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SyscallReport>> SyscallReport::Open(const std::string& path,
                                                                   const std::string& format) {
  if (format != "json" && format != "text") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown report format \"", format, "\" (want json or text)"));
  }
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644));
  if (!fd.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("report \"", path, "\": ", strerror(errno)));
  }
  return std::unique_ptr<SyscallReport>(new SyscallReport(std::move(fd), path, format == "json"));
}

void SyscallReport::Write() {
  std::string text = json_ ? recorder_.ToJson().dump(1) + "\n" : recorder_.ToText();
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd_.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::warn("writing report \"{}\": {}", path_, strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace palisade
