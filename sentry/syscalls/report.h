// The workload report of `palisade run --report=<file>`: what an
// application asked of the sentry that the sentry does not fully provide.
//
// A SyscallRecorder counts, for one sandbox, every syscall by number,
// ioctl requests that the sentry answered with ENOTTY/EINVAL/ENOSYS, and
// /proc and /sys paths that a path-taking syscall found missing (ENOENT).
// DispatchSyscall feeds it after each handler returns; it is thread-safe
// and costs one relaxed atomic increment per syscall (nothing at all when
// the Kernel has no recorder). SyscallReport owns a recorder and the
// opened report file, and writes JSON or text when the sandbox ends.
//
//   PAL_ASSIGN_OR_RETURN(auto report, SyscallReport::Open("/x/r.json", "json"));
//   KernelOptions o{.recorder = &report->recorder()};
//   ... run the sandbox ...
//   report->Write();
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "nlohmann/json.hpp"
#include "sentry/syscalls/syscall_table.h"

namespace palisade {

class SyscallRecorder {
 public:
  SyscallRecorder();

  // Every dispatched syscall, by number (numbers outside the table count too).
  void RecordSyscall(int nr);
  // An ioctl the sentry did not serve: request, the errno it returned and
  // the kind of file ("regular", "chr", "pipe", "socket", ...).
  void RecordIoctl(uint64_t request, int err, std::string_view file_kind);
  // A /proc or /sys path a syscall could not find. Numeric components are
  // folded ("/proc/[N]/maps") so one entry stands for every pid.
  void RecordMissingPath(std::string_view path, std::string_view syscall);

  // The report: {"syscalls": {name: count} for every call made,
  //  "unsupported_syscalls": [{name, nr, count, status, note}] (ENOSYS and
  //  partial rows, and numbers the table does not know),
  //  "ioctls": [{request, name, errno, file, count}],
  //  "missing_paths": [{path, syscall, count}]}.
  nlohmann::json ToJson() const;
  // The same, for people.
  std::string ToText() const;

  // "/proc/12/task/12/stat" -> "/proc/[N]/task/[N]/stat".
  static std::string FoldPath(std::string_view path);

 private:
  std::array<std::atomic<uint64_t>, kMaxSyscall> calls_;
  std::atomic<uint64_t> out_of_range_calls_{0};
  mutable std::mutex mu_;  // guards the two maps
  std::map<std::tuple<uint64_t, int, std::string>, uint64_t> ioctls_;
  std::map<std::pair<std::string, std::string>, uint64_t> paths_;
};

// A recorder plus the report file, opened up front (before the sentry's
// own confinement can forbid opening files) and written at the end.
class SyscallReport {
 public:
  // format: "json" or "text". Creates or truncates `path`.
  static absl::StatusOr<std::unique_ptr<SyscallReport>> Open(const std::string& path,
                                                            const std::string& format);
  SyscallRecorder& recorder() { return recorder_; }
  // Writes the report; logs (never fails the sandbox) if writing fails.
  void Write();

 private:
  SyscallReport(UniqueFd fd, std::string path, bool json)
      : fd_(std::move(fd)), path_(std::move(path)), json_(json) {}
  SyscallRecorder recorder_;
  UniqueFd fd_;
  std::string path_;
  bool json_;
};

}  // namespace palisade
