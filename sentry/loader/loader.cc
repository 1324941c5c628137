// Load(): the execve sequence, in Linux's order (alloc_bprm, copy of the
// strings, exec_binprm's format loop, load_elf_binary), over the pieces in
// this directory.
#include "sentry/loader/loader.h"

#include <sys/random.h>

#include <array>
#include <optional>

#include "absl/strings/str_cat.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/auxv_x86_64.h"
#include "sentry/loader/elf.h"
#include "sentry/loader/exec_file.h"
#include "sentry/loader/layout.h"
#include "sentry/loader/mapping.h"
#include "sentry/loader/shebang.h"
#include "sentry/loader/vdso.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/vfs.h"

namespace palisade::loader {
namespace {

// TASK_COMM_LEN - 1: the task name is cut to this many bytes.
constexpr size_t kCommMax = 15;

// What Linux's alloc_bprm() derives from the arguments: the name the
// program sees as AT_EXECFN (and a script as its path argument).
struct ExecName {
  std::string filename;
  bool comm_from_dentry = false;   // execveat(fd, "", AT_EMPTY_PATH): no name to cut
  bool path_inaccessible = false;  // "/dev/fd/N..." of an O_CLOEXEC fd: gone after exec
};

// REQUIRES: dirfd was valid for resolution (so it is open, if used).
ExecName NameFor(Task& t, const LoadRequest& req) {
  ExecName n;
  if (req.dirfd == AT_FDCWD || (!req.path.empty() && req.path[0] == '/')) {
    n.filename = req.path;
    return n;
  }
  if (req.path.empty()) {
    n.filename = absl::StrCat("/dev/fd/", req.dirfd);
    n.comm_from_dentry = true;
  } else {
    n.filename = absl::StrCat("/dev/fd/", req.dirfd, "/", req.path);
  }
  n.path_inaccessible = t.fds().GetCloexec(req.dirfd);
  return n;
}

// The task name: the last component of the exec name, or the executed
// file's own name when the exec name is only "/dev/fd/N" (Linux 6.13+).
std::string CommFor(const ExecName& n, const ExecFile& final_file) {
  std::string base;
  if (n.comm_from_dentry && final_file.path.dentry) {
    base = final_file.path.dentry->name();
  } else {
    size_t slash = n.filename.rfind('/');
    base = slash == std::string::npos ? n.filename : n.filename.substr(slash + 1);
  }
  return base.substr(0, kCommMax);
}

// Fills buf from the host's CSPRNG. AT_RANDOM seeds glibc's stack
// protector and pointer guard, so there is no weaker fallback.
Errno HostRandom(void* buf, size_t len) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno::FromHost();
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return Errno::Ok();
}

// The PT_INTERP file, opened and checked before anything is mapped so
// that a bad interpreter fails the exec cleanly.
struct Interpreter {
  ExecFile file;
  ElfInfo info;
  std::shared_ptr<MappableFile> mappable;
};

ErrnoOr<Interpreter> OpenInterpreter(Task& t, const std::string& path) {
  Interpreter in;
  // Found from the task's root and cwd, with the same exec checks.
  PAL_TRY(in.file, OpenExec(t, AT_FDCWD, path, 0));
  // A broken interpreter is ELIBBAD rather than ENOEXEC, as in
  // load_elf_binary(); its own PT_INTERP, if any, is ignored.
  ErrnoOr<ElfInfo> info = ReadElfInfo(t, in.file);
  if (!info.ok()) return info.error() == Errno(ENOEXEC) ? Errno(ELIBBAD) : info.error();
  in.info = std::move(*info);
  in.mappable = in.file.file->Mappable();
  if (!in.mappable) return Errno(ELIBBAD);
  return in;
}

}  // namespace

ErrnoOr<LoadResult> Load(Task& t, MemoryManager& mm, const LoadRequest& req) {
  if (req.at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  // Linux opens the file before copying the strings, so a missing file
  // is ENOENT even when the arguments are also too big.
  PAL_TRY(ExecFile file, OpenExec(t, req.dirfd, req.path, req.at_flags));
  ExecName name = NameFor(t, req);

  LoadResult res;
  res.execfn = name.filename;
  // An empty argv gets "" as argv[0] (Linux 5.18+), so argc >= 1 always.
  res.argv = req.argv.empty() ? std::vector<std::string>{""} : req.argv;
  PAL_TRY_ERRNO(CheckArgLimits(res.argv, req.envp, name.filename));

  auto open_next = [&](const std::string& path) -> ErrnoOr<std::vector<uint8_t>> {
    // Linux opens an empty "#!" name as is, which finds the cwd (a
    // directory: EACCES); AT_EMPTY_PATH gives the same walk here.
    PAL_TRY(file, OpenExec(t, AT_FDCWD, path, path.empty() ? AT_EMPTY_PATH : 0));
    return file.head;
  };
  PAL_TRY(int levels, FollowShebangs(file.head, name.filename, name.path_inaccessible, res.argv, open_next));
  if (levels > 0) PAL_TRY_ERRNO(CheckArgLimits(res.argv, req.envp, name.filename));

  // Everything is opened and validated before the first mapping.
  PAL_TRY(ElfInfo info, ReadElfInfo(t, file));
  std::shared_ptr<MappableFile> mappable = file.file->Mappable();
  if (!mappable) return Errno(ENOEXEC);  // binfmt_elf needs f_op->mmap
  std::optional<Interpreter> interp;
  if (info.has_interp) {
    PAL_TRY(interp, OpenInterpreter(t, info.interp));
  }

  std::array<uint64_t, 3> layout_random;
  std::array<uint8_t, 16> at_random;
  PAL_TRY_ERRNO(HostRandom(layout_random.data(), sizeof(layout_random)));
  PAL_TRY_ERRNO(HostRandom(at_random.data(), at_random.size()));
  AddressLayout layout = ChooseLayout(layout_random);

  // The stack first: it sets the mmap base the interpreter is placed under.
  PAL_TRY_ERRNO(MapStack(mm, layout));
  PAL_TRY(ElfPlan main, MapElf(mm, mappable, info, ElfRole::kMain));
  uint64_t entry = main.entry, interp_base = 0;
  if (interp) {
    PAL_TRY(ElfPlan ld, MapElf(mm, interp->mappable, interp->info, ElfRole::kInterpreter));
    entry = ld.entry;
    interp_base = ld.bias;
  }

  // The vDSO last, like Linux (arch_setup_additional_pages). Without one
  // (none could be made) programs still run, their clock calls trapping.
  uint64_t vdso_addr = 0;
  if (Vdso* vdso = t.kernel().vdso()) {
    PAL_TRY(vdso_addr, vdso->MapInto(mm));
  }

  Credentials c = t.creds();
  StackRequest sr{.top = layout.stack_top,
                  .argv = res.argv,
                  .envp = req.envp,
                  .execfn = name.filename,
                  .random = at_random,
                  .align_pad = layout.stack_pad,
                  .auxv = BuildAuxv({.phdr = main.phdr,
                                     .phnum = info.phnum,
                                     .base = interp_base,
                                     .entry = main.entry,
                                     .sysinfo_ehdr = vdso_addr,
                                     .uid = c.ruid,
                                     .euid = c.euid,
                                     .gid = c.rgid,
                                     .egid = c.egid})};
  PAL_TRY(StackImage img, BuildStackImage(sr));
  // CheckArgLimits keeps the image far below the reserve; this guards
  // the invariant rather than a reachable case.
  if (img.sp < layout.stack_bottom) return Errno(E2BIG);
  PAL_TRY_ERRNO(mm.CopyOutForce(img.sp, img.bytes.data(), img.bytes.size()));

  mm.set_layout({.start_code = main.start_code,
                 .end_code = main.end_code,
                 .start_data = main.start_data,
                 .end_data = main.end_data,
                 .start_stack = img.sp,  // as Linux 6.x: the address of argc
                 .arg_start = img.arg_start,
                 .arg_end = img.arg_end,
                 .env_start = img.env_start,
                 .env_end = img.env_end,
                 .brk_start = main.brk});
  mm.SetBrkBase(main.brk);
  mm.set_auxv(img.auxv);
  res.exe_path = vfs::PathString(file.path, t.fs().root());
  mm.set_exe_path(res.exe_path);

  res.entry = entry;
  res.stack_pointer = img.sp;
  res.comm = CommFor(name, file);
  return res;
}

}  // namespace palisade::loader
