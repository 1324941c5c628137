// /proc/<pid>/ and /proc/<pid>/task/<tid>/: one directory per thread group
// (and per thread), built from the table in PidDirRows().
#include <dirent.h>

#include <cstring>
#include <span>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sentry/fsimpl/proc/procfs.h"
#include "sentry/fsimpl/proc/proc_pid.h"
#include "sentry/fsimpl/proc/synthetic.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace palisade::procfs {
namespace {

using WeakTask = std::weak_ptr<Task>;

Owner OwnerOf(Task& t) {
  Credentials c = t.creds();
  return Owner{c.euid, c.egid};
}

using TaskWriter = std::function<ErrnoOr<int64_t>(Task& target, Task& caller, std::span<const uint8_t>)>;

// A file generated from a live task; ESRCH once it is gone. With a writer
// it also takes writes for that task.
ChildFactory TaskFile(const std::string& key, WeakTask w, uint32_t mode,
                      std::function<ErrnoOr<std::string>(Task&)> gen, TaskWriter writer = nullptr) {
  return [key, w, mode, gen, writer] {
    auto t = w.lock();
    Owner o = t ? OwnerOf(*t) : Owner{};
    SyntheticFile::Writer write;
    if (writer) {
      write = [w, writer](Task& caller, std::span<const uint8_t> src) -> ErrnoOr<int64_t> {
        auto t = w.lock();
        if (!t) return Errno(ESRCH);
        return writer(*t, caller, src);
      };
    }
    return InodeRef(std::make_shared<SyntheticFile>(key, mode, o, [w, gen]() -> ErrnoOr<std::string> {
      auto t = w.lock();
      if (!t) return Errno(ESRCH);
      return gen(*t);
    }, std::move(write)));
  };
}

// Writing comm renames a thread of the writer's own process as
// PR_SET_NAME does: the first 15 bytes, taken as they are (a newline
// too); the whole write counts as written.
ErrnoOr<int64_t> WriteComm(Task& target, Task& caller, std::span<const uint8_t> src) {
  if (target.tgid() != caller.tgid()) return Errno(EINVAL);
  std::string name(reinterpret_cast<const char*>(src.data()), std::min<size_t>(src.size(), 15));
  target.set_comm(name.substr(0, strnlen(name.c_str(), name.size())));
  return int64_t(src.size());
}

ErrnoOr<std::string> PathOf(Task& t, const VirtualPath& p) { return vfs::PathString(p, t.fs().root()); }

std::string FdName(Task& t, const FileRef& f) {
  if (f->mount() && f->dentry()) return vfs::PathString(VirtualPath{f->mount(), f->dentry()}, t.fs().root());
  return f->DisplayName();
}

InodeRef FdDir(const std::string& key, WeakTask w, bool info) {
  auto t0 = w.lock();
  Owner o = t0 ? OwnerOf(*t0) : Owner{};
  SyntheticDir::Hooks h;
  h.list = [w, info] {
    std::vector<DirEntry> out;
    if (auto t = w.lock())
      for (int fd : t->fds().Fds()) out.push_back({uint64_t(fd + 1000), uint8_t(info ? DT_REG : DT_LNK), std::to_string(fd)});
    return out;
  };
  h.lookup = [key, w, info, o](std::string_view name) -> ErrnoOr<InodeRef> {
    int fd;
    if (!absl::SimpleAtoi(absl::string_view(name.data(), name.size()), &fd)) return Errno(ENOENT);
    auto t = w.lock();
    if (!t || !t->fds().Get(fd)) return Errno(ENOENT);
    std::string k = absl::StrCat(key, "/", fd);
    if (info) {
      return InodeRef(std::make_shared<SyntheticFile>(k, 0400, o, [w, fd]() -> ErrnoOr<std::string> {
        auto t = w.lock();
        if (!t) return Errno(ESRCH);
        FileRef f = t->fds().Get(fd);
        if (!f) return Errno(ENOENT);
        return absl::StrCat("pos:\t0\nflags:\t0", absl::Dec(f->flags() & ~O_CLOEXEC), "\nmnt_id:\t0\n");
      }));
    }
    return InodeRef(std::make_shared<SyntheticSymlink>(
        k, o,
        [w, fd]() -> ErrnoOr<std::string> {
          auto t = w.lock();
          if (!t) return Errno(ESRCH);
          FileRef f = t->fds().Get(fd);
          if (!f) return Errno(ENOENT);
          return FdName(*t, f);
        },
        [w, fd](Task&) -> FileRef {
          auto t = w.lock();
          return t ? t->fds().Get(fd) : nullptr;
        }));
  };
  return std::make_shared<SyntheticDir>(key, info ? 0500 : 0500, o, h);
}

InodeRef Link(const std::string& key, WeakTask w, std::function<ErrnoOr<VirtualPath>(Task&)> where) {
  auto t0 = w.lock();
  Owner o = t0 ? OwnerOf(*t0) : Owner{};
  return std::make_shared<SyntheticSymlink>(
      key, o,
      [w, where]() -> ErrnoOr<std::string> {
        auto t = w.lock();
        if (!t) return Errno(ESRCH);
        PAL_TRY(VirtualPath p, where(*t));
        return PathOf(*t, p);
      },
      [w, where](Task&) -> FileRef {
        auto t = w.lock();
        if (!t) return nullptr;
        auto p = where(*t);
        return p.ok() ? PathOnlyFile(*p) : nullptr;
      });
}

}  // namespace

InodeRef NewTaskDir(Kernel& k, const std::string& key, std::shared_ptr<Task> task, bool with_tasks);

std::vector<std::pair<std::string, std::pair<uint8_t, ChildFactory>>> PidDirRows(Kernel& k, const std::string& key,
                                                                                  WeakTask w, bool with_tasks) {
  auto file = [&](const char* name, uint32_t mode, std::function<ErrnoOr<std::string>(Task&)> gen,
                  TaskWriter writer = nullptr) {
    return std::make_pair(std::string(name),
                          std::make_pair(uint8_t(DT_REG), TaskFile(key + "/" + name, w, mode, gen, writer)));
  };
  std::vector<std::pair<std::string, std::pair<uint8_t, ChildFactory>>> rows = {
      file("status", 0444, [](Task& t) -> ErrnoOr<std::string> { return StatusText(t); }),
      file("stat", 0444, [](Task& t) -> ErrnoOr<std::string> { return StatText(t); }),
      file("statm", 0444, [](Task& t) -> ErrnoOr<std::string> { return StatmText(t); }),
      file("cmdline", 0444, [](Task& t) { return CmdlineText(t, false); }),
      file("environ", 0400, [](Task& t) { return CmdlineText(t, true); }),
      file("comm", 0644, [](Task& t) -> ErrnoOr<std::string> { return t.comm() + "\n"; }, WriteComm),
      file("maps", 0444, [](Task& t) -> ErrnoOr<std::string> { return t.mm().ProcMaps(); }),
      file("auxv", 0400, [](Task& t) -> ErrnoOr<std::string> { return t.mm().auxv(); }),
      file("mounts", 0444, [](Task& t) -> ErrnoOr<std::string> { return MountsText(t); }),
      file("limits", 0444, [](Task& t) -> ErrnoOr<std::string> { return LimitsText(t); }),
      file("cgroup", 0444, [](Task&) -> ErrnoOr<std::string> { return std::string("0::/\n"); }),
      file("oom_score_adj", 0644, [](Task&) -> ErrnoOr<std::string> { return std::string("0\n"); }),
      file("loginuid", 0644, [](Task&) -> ErrnoOr<std::string> { return std::string("4294967295"); }),
      {"exe", {DT_LNK, [key, w] {
         return Link(key + "/exe", w, [](Task& t) -> ErrnoOr<VirtualPath> {
           return vfs::Resolve(t, AT_FDCWD, t.mm().exe_path(), {.follow = true});
         });
       }}},
      {"cwd", {DT_LNK, [key, w] { return Link(key + "/cwd", w, [](Task& t) -> ErrnoOr<VirtualPath> { return t.fs().cwd(); }); }}},
      {"root", {DT_LNK, [key, w] { return Link(key + "/root", w, [](Task& t) -> ErrnoOr<VirtualPath> { return t.fs().root(); }); }}},
      {"fd", {DT_DIR, [key, w] { return FdDir(key + "/fd", w, false); }}},
      {"fdinfo", {DT_DIR, [key, w] { return FdDir(key + "/fdinfo", w, true); }}},
  };
  if (with_tasks) {
    rows.push_back({"task", {DT_DIR, [&k, key, w] {
      SyntheticDir::Hooks h;
      h.list = [&k, w] {
        std::vector<DirEntry> out;
        auto t = w.lock();
        if (!t) return out;
        std::lock_guard<std::mutex> l(k.mu());
        for (auto& th : t->thread_group().tasks) out.push_back({uint64_t(th->tid()), DT_DIR, std::to_string(th->tid())});
        return out;
      };
      h.lookup = [&k, key, w](std::string_view name) -> ErrnoOr<InodeRef> {
        int tid;
        if (!absl::SimpleAtoi(absl::string_view(name.data(), name.size()), &tid)) return Errno(ENOENT);
        auto t = w.lock();
        auto th = k.TaskByTid(tid);
        if (!t || !th || th->tgid() != t->tgid()) return Errno(ENOENT);
        return NewTaskDir(k, absl::StrCat(key, "/task/", tid), th, false);
      };
      auto t = w.lock();
      return InodeRef(std::make_shared<SyntheticDir>(key + "/task", 0555, t ? OwnerOf(*t) : Owner{}, h));
    }}});
  }
  return rows;
}

InodeRef NewTaskDir(Kernel& k, const std::string& key, std::shared_ptr<Task> task, bool with_tasks) {
  Owner o = OwnerOf(*task);
  return std::make_shared<SyntheticDir>(key, 0555, o, StaticDirHooks(PidDirRows(k, key, task, with_tasks)));
}

}  // namespace palisade::procfs
