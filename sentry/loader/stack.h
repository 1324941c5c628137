// The initial process stack of a new program (Linux's copy_strings() and
// create_elf_tables()), built as a byte image in the sentry and copied into
// the application's stack VMA in one write. Pure: the caller supplies the
// top address, the randomness and the auxv entries, so the layout is
// unit-tested byte for byte.
//
// Layout, from the top (high addresses) down, as Linux lays it out:
//   8 zero bytes | execfn string | envp strings | argv strings
//   | random pad (arch_align_stack), 16-byte aligned
//   | platform string "x86_64" | 16 AT_RANDOM bytes
//   | (16-byte aligned so that sp is) auxv pairs + AT_NULL | NULL
//   | envp pointers | NULL | argv pointers | argc   <- sp
//
//   PAL_TRY(StackImage img, BuildStackImage(req));
//   PAL_TRY_ERRNO(mm.CopyOutForce(img.sp, img.bytes.data(), img.bytes.size()));
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/errno.h"

namespace palisade::loader {

// One argument or environment string may hold at most this many bytes,
// NUL included (MAX_ARG_STRLEN, 32 pages); more is E2BIG.
inline constexpr size_t kMaxArgStrLen = 32 * 4096;
// All strings plus their pointers may take a quarter of the stack rlimit
// (8 MiB by default, so 2 MiB; Linux's bprm_stack_limits()); more is E2BIG.
inline constexpr uint64_t kArgSpaceLimit = (8ull << 20) / 4;

// E2BIG if one string is too long (kMaxArgStrLen) or all of them (argv,
// envp and the execfn copy, NULs included) plus the argv/envp pointer
// arrays exceed kArgSpaceLimit. An empty argv counts as one pointer, as
// Linux does (it inserts "" as argv[0]).
Errno CheckArgLimits(const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                     std::string_view execfn);

struct AuxEntry {
  uint64_t type = 0;   // AT_*
  uint64_t value = 0;
};

struct StackRequest {
  uint64_t top = 0;  // exclusive end of the stack; REQUIRES: 16-byte aligned
  std::vector<std::string> argv, envp;
  std::string execfn;               // AT_EXECFN: the path as execve got it
  std::string platform = "x86_64";  // AT_PLATFORM
  std::array<uint8_t, 16> random{};  // AT_RANDOM bytes (glibc's stack guard)
  // Bytes skipped below the strings before the tables (Linux subtracts a
  // random 0..8191 there); rounded so the tables stay 16-byte aligned.
  uint64_t align_pad = 0;
  // auxv in order, without AT_NULL (appended). The values of AT_EXECFN,
  // AT_PLATFORM and AT_RANDOM entries are replaced by the addresses of
  // the strings/bytes placed here.
  std::vector<AuxEntry> auxv;
};

struct StackImage {
  uint64_t sp = 0;             // initial rsp: the address of argc (16-byte aligned)
  std::vector<uint8_t> bytes;  // the contents of [sp, top)
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;  // /proc/pid/cmdline, environ
  uint64_t execfn_addr = 0, platform_addr = 0, random_addr = 0;
  std::string auxv;  // the final auxv words, AT_NULL included, for /proc/pid/auxv
};

// Lays out the stack image. E2BIG from CheckArgLimits().
ErrnoOr<StackImage> BuildStackImage(const StackRequest& r);

}  // namespace palisade::loader
