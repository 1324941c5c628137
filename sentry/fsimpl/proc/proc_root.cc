// The /proc root: one directory per process, "self"/"thread-self", and the
// system-wide files, declared as a table.
#include <dirent.h>
#include <sys/sysinfo.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sentry/fsimpl/proc/proc_pid.h"
#include "sentry/fsimpl/proc/procfs.h"
#include "sentry/fsimpl/proc/synthetic.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace palisade::procfs {
namespace {

using Rows = std::vector<std::pair<std::string, std::pair<uint8_t, ChildFactory>>>;

std::pair<std::string, std::pair<uint8_t, ChildFactory>> File(const std::string& key, const char* name,
                                                              SyntheticFile::Generator gen, uint32_t mode = 0444) {
  return {name, {DT_REG, [key, name, gen, mode] {
                   return InodeRef(std::make_shared<SyntheticFile>(key + "/" + name, mode, Owner{}, gen));
                 }}};
}

std::pair<std::string, std::pair<uint8_t, ChildFactory>> Dir(const std::string& key, const char* name,
                                                             std::function<Rows(const std::string&)> rows) {
  return {name, {DT_DIR, [key, name, rows] {
                   std::string k = key + "/" + name;
                   return InodeRef(std::make_shared<SyntheticDir>(k, 0555, Owner{}, StaticDirHooks(rows(k))));
                 }}};
}

SyntheticFile::Generator Const(std::string s) {
  return [s]() -> ErrnoOr<std::string> { return s; };
}

// /proc/cpuinfo describes the real CPU the app runs on, so it is the host's.
// Read once, when the procfs is made (at set-up): the sentry's seccomp
// filter refuses host paths once the application runs.
ErrnoOr<std::string> CpuInfo() {
  static const std::string* info = [] {
    std::ifstream f("/proc/cpuinfo");
    std::stringstream ss;
    ss << f.rdbuf();
    return new std::string(ss.str());
  }();
  return *info;
}

ErrnoOr<std::string> MemInfo(Kernel& k) {
  struct sysinfo si {};
  ::sysinfo(&si);
  uint64_t total = si.totalram * si.mem_unit / 1024;
  uint64_t used = k.memory_file().allocated() / 1024;
  uint64_t free_kb = total > used ? total - used : 0;
  std::string s;
  absl::StrAppendFormat(&s, "MemTotal:       %8u kB\nMemFree:        %8u kB\nMemAvailable:   %8u kB\n", total, free_kb, free_kb);
  absl::StrAppendFormat(&s, "Buffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\n");
  absl::StrAppendFormat(&s, "Active:         %8u kB\nInactive:              0 kB\n", used);
  absl::StrAppendFormat(&s, "SwapTotal:             0 kB\nSwapFree:              0 kB\nDirty:                 0 kB\n");
  absl::StrAppendFormat(&s, "AnonPages:      %8u kB\nMapped:                0 kB\nShmem:                 0 kB\n", used);
  absl::StrAppendFormat(&s, "CommitLimit:    %8u kB\nCommitted_AS:   %8u kB\nVmallocTotal:   34359738367 kB\n", total, used);
  return s;
}

Rows SysKernelRows(Kernel& k, const std::string& key) {
  return {
      File(key, "hostname", [&k]() -> ErrnoOr<std::string> { return k.hostname() + "\n"; }),
      File(key, "osrelease", Const("5.15.0-palisade\n")),
      File(key, "ostype", Const("Linux\n")),
      File(key, "version", Const("#1 SMP Palisade sentry\n")),
      File(key, "pid_max", Const("4194304\n")),
      File(key, "ngroups_max", Const("65536\n")),
      File(key, "cap_last_cap", Const("40\n")),
      File(key, "threads-max", Const("63640\n")),
      Dir(key, "random", [](const std::string& k2) {
        return Rows{File(k2, "boot_id", Const("7f3e3a5c-5b7e-4b8a-9d2a-0c1e2f3a4b5c\n")),
                    File(k2, "uuid", Const("0b0f1d47-2e4f-4c8e-9b7a-6f5e4d3c2b1a\n")),
                    File(k2, "entropy_avail", Const("256\n"))};
      }),
  };
}

Rows SysRows(Kernel& k, const std::string& key) {
  return {
      Dir(key, "kernel", [&k](const std::string& k2) { return SysKernelRows(k, k2); }),
      Dir(key, "vm", [](const std::string& k2) {
        return Rows{File(k2, "overcommit_memory", Const("0\n")), File(k2, "max_map_count", Const("65530\n")),
                    File(k2, "mmap_min_addr", Const("65536\n"))};
      }),
      Dir(key, "fs", [](const std::string& k2) {
        return Rows{File(k2, "nr_open", Const("1048576\n")), File(k2, "file-max", Const("9223372036854775807\n"))};
      }),
      Dir(key, "net", [](const std::string& k2) {
        return Rows{Dir(k2, "core", [](const std::string& k3) { return Rows{File(k3, "somaxconn", Const("4096\n"))}; })};
      }),
  };
}

Rows SystemRows(Kernel& k) {
  const std::string key = "/proc";
  return {
      File(key, "cpuinfo", [] { return CpuInfo(); }),
      File(key, "meminfo", [&k] { return MemInfo(k); }),
      File(key, "uptime", [&k]() -> ErrnoOr<std::string> {
        double up = (MonotonicNowNs() - k.boot_time_mono_ns()) / 1e9;
        return absl::StrFormat("%.2f %.2f\n", up, up);
      }),
      File(key, "loadavg", Const("0.00 0.00 0.00 1/1 1\n")),
      File(key, "version", Const("Linux version 5.15.0-palisade (palisade) #1 SMP Palisade sentry\n")),
      File(key, "filesystems", Const("nodev\tproc\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tsysfs\n")),
      File(key, "cmdline", Const("palisade\n")),
      File(key, "stat", [&k]() -> ErrnoOr<std::string> {
        int64_t btime = time(nullptr) - (MonotonicNowNs() - k.boot_time_mono_ns()) / 1000000000;
        return absl::StrCat("cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\nintr 0\nctxt 0\nbtime ", btime,
                            "\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n");
      }),
      {"mounts", {DT_LNK, [] {
         return InodeRef(std::make_shared<SyntheticSymlink>("/proc/mounts", Owner{},
                                                            []() -> ErrnoOr<std::string> { return std::string("self/mounts"); }));
       }}},
      Dir(key, "sys", [&k](const std::string& k2) { return SysRows(k, k2); }),
  };
}

}  // namespace

InodeRef NewProcfsRoot(Kernel& k) {
  (void)CpuInfo();  // before the sentry's filter, see CpuInfo
  auto system = std::make_shared<Rows>(SystemRows(k));
  SyntheticDir::Hooks h;
  h.list = [&k, system] {
    std::vector<DirEntry> out;
    for (auto& [name, row] : *system) out.push_back({InoFor("/proc/" + name), row.first, name});
    out.push_back({InoFor("/proc/self"), DT_LNK, "self"});
    out.push_back({InoFor("/proc/thread-self"), DT_LNK, "thread-self"});
    for (auto& tg : k.ThreadGroups()) {
      if (!tg->zombie) out.push_back({uint64_t(tg->pid()) + 2, DT_DIR, std::to_string(tg->pid())});
    }
    return out;
  };
  h.lookup = [&k, system](std::string_view name) -> ErrnoOr<InodeRef> {
    if (name == "self" || name == "thread-self") {
      bool thread = name == "thread-self";
      return InodeRef(std::make_shared<SyntheticSymlink>(
          std::string("/proc/") + std::string(name), Owner{}, [thread]() -> ErrnoOr<std::string> {
            Task* t = CurrentTask();
            if (!t) return Errno(ENOENT);
            return thread ? absl::StrCat(t->tgid(), "/task/", t->tid()) : std::to_string(t->tgid());
          }));
    }
    for (auto& [n, row] : *system)
      if (n == name) return row.second();
    int pid;
    if (!absl::SimpleAtoi(absl::string_view(name.data(), name.size()), &pid)) return Errno(ENOENT);
    auto task = k.TaskByTid(pid);
    // /proc/<tid> of a non-leader thread exists too (hidden from listings).
    if (!task) return Errno(ENOENT);
    return NewTaskDir(k, absl::StrCat("/proc/", pid), task, true);
  };
  return std::make_shared<SyntheticDir>("/proc", 0555, Owner{}, h);
}

}  // namespace palisade::procfs
