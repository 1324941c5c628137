// The program loader behind execve(2) and execveat(2): resolves and opens
// the file with the task's credentials, follows "#!" interpreter lines,
// maps an x86-64 ELF image (and its PT_INTERP dynamic linker) into a fresh
// address space, and builds the initial stack (argv, envp, auxv). Linux's
// fs/exec.c, binfmt_script.c and binfmt_elf.c are the reference; the pieces
// live in elf.h, shebang.h, stack.h, auxv_x86_64.h, layout.h, elf_plan.h
// (pure, unit-tested) and exec_file.h, mapping.h (VFS and mm side).
//
//   auto mm = std::make_shared<MemoryManager>(mf, platform);
//   ErrnoOr<LoadResult> r = loader::Load(t, *mm, {.path = "/bin/sh",
//                                                .argv = {"sh", "-c", "true"},
//                                                .envp = {"PATH=/bin"}});
//   if (!r.ok()) return r.error();   // the old image is untouched
//   // switch the task to mm; rip = r->entry, rsp = r->stack_pointer, every
//   // other register 0 (ELF_PLAT_INIT): a non-zero rdx would be registered
//   // by glibc's _start as an atexit hook. fs_base 0, FP state reset.
#pragma once

#include <fcntl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/errno.h"
#include "sentry/loader/stack.h"  // kMaxArgStrLen, kArgSpaceLimit for the syscall layer

namespace palisade {

class Task;
class MemoryManager;

namespace loader {

struct LoadRequest {
  std::string path;  // as given to execve; resolved against dirfd (cwd) from the task's root
  int dirfd = AT_FDCWD;
  int at_flags = 0;  // execveat: AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW (others: EINVAL)
  std::vector<std::string> argv, envp;
};

struct LoadResult {
  uint64_t entry = 0;          // where the first instruction runs (ld.so's entry with PT_INTERP)
  uint64_t stack_pointer = 0;  // initial rsp, pointing at argc
  // Sandbox path of the file now running (the interpreter's, for a "#!"
  // script; the binary's, not ld.so's, for PT_INTERP): /proc/self/exe.
  std::string exe_path;
  // AT_EXECFN: the path as execve got it ("/dev/fd/N/..." for execveat
  // with a directory fd), also the script argument of a "#!" line.
  std::string execfn;
  std::string comm;            // task name: basename of execfn, <= 15 bytes
  std::vector<std::string> argv;  // final argv (after "#!" rewriting)
};

// Loads the program into `mm`, a fresh MemoryManager the caller switches
// the task to on success (and drops on failure: it may be half built).
// Uses t's credentials, root, cwd and fd table for resolution and checks.
// Records in mm: layout, brk base, auxv, exe path, mmap base.
// Errors as execve(2):
//   EINVAL  unknown at_flags
//   ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES (search)  from resolution;
//           ENOENT also for a missing "#!" or PT_INTERP interpreter
//   EACCES  not a regular file, no exec permission, noexec mount
//   E2BIG   arguments/environment too large (see stack.h)
//   ENOEXEC not a valid x86-64 ELF or "#!" script, or truncated
//   ELIBBAD the PT_INTERP interpreter is not a valid ELF
//   ELOOP   more than five nested "#!" interpreters
//   ENOMEM, EFAULT, ... from mapping into mm
ErrnoOr<LoadResult> Load(Task& t, MemoryManager& mm, const LoadRequest& req);

}  // namespace loader

// The exec path (sentry/kernel/task_exec.cc) names these unqualified.
using loader::Load;
using loader::LoadRequest;
using loader::LoadResult;

}  // namespace palisade
