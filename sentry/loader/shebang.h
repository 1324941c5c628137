// "#!" interpreter scripts (Linux's binfmt_script), as pure functions: the
// first line is parsed from the file's first BINPRM_BUF_SIZE bytes with the
// kernel's exact rules, and the argv rewrite is a vector operation.
//
//   PAL_TRY(Shebang sb, ParseShebang(head));    // head: first <= 256 bytes
//   argv = ScriptArgv(sb, "/path/to/script", argv);
//   // then exec sb.interpreter with the new argv
//
// FollowShebangs() runs that loop with Linux's depth limit, over a
// callback that opens each interpreter, so it is testable with a fake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "base/errno.h"

namespace palisade::loader {

// execve tries at most this many files (the one named plus interpreters)
// and fails the next with ELOOP (exec_binprm()'s "depth > 5"): five "#!"
// levels may nest, a sixth is ELOOP. Checked against Linux 6.18.
inline constexpr int kMaxExecDepth = 6;

// The kernel reads this many leading bytes to pick a binary format, so a
// "#!" line longer than 255 bytes is cut (BINPRM_BUF_SIZE).
inline constexpr size_t kBinprmBufSize = 256;

struct Shebang {
  std::string interpreter;         // as written: absolute, or relative to the cwd
  std::optional<std::string> arg;  // everything after it, as ONE argument
};

// True if the file starts with "#!" (binfmt_script claims it).
bool IsShebang(std::span<const uint8_t> head);

// Parses the "#!" line in head (the first min(file size, 256) bytes).
// ENOEXEC if head does not start with "#!", names no interpreter, or the
// interpreter path may have been truncated by the 256-byte limit (no
// newline and no blank or NUL after the name). An optional argument is the
// rest of the line after blanks, trailing blanks removed; it may be cut at
// the limit, as on Linux (the interpreter can re-read the script).
ErrnoOr<Shebang> ParseShebang(std::span<const uint8_t> head);

// The argv the interpreter gets: [interpreter, (arg), script, argv[1..]].
// script is the path the script was executed by (Linux's bprm->interp:
// the execve path, or the previous interpreter for nested scripts).
std::vector<std::string> ScriptArgv(const Shebang& sb, std::string_view script,
                                    const std::vector<std::string>& argv);

// Opens the interpreter at `path` (relative paths from the cwd) as the
// next file to execute and returns its first bytes (<= kBinprmBufSize).
using OpenInterpreterFn = absl::FunctionRef<ErrnoOr<std::vector<uint8_t>>(const std::string& path)>;

// Follows "#!" lines from the file whose first bytes are `head`, executed
// as `script_path`, rewriting argv at each level. The file opened last by
// `open` (if any) is the one to execute. Returns the number of levels.
// Errors: ENOEXEC (malformed line), ELOOP (past kMaxExecDepth), ENOENT
// when a script was named by a path that exec makes unreachable
// (path_inaccessible: /dev/fd/N of an O_CLOEXEC fd), and open's errors
// (a missing interpreter is ENOENT).
ErrnoOr<int> FollowShebangs(std::vector<uint8_t> head, std::string script_path, bool path_inaccessible,
                            std::vector<std::string>& argv, OpenInterpreterFn open);

}  // namespace palisade::loader
