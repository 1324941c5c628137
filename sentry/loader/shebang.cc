#include "sentry/loader/shebang.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace palisade::loader {
namespace {

// The helpers mirror fs/binfmt_script.c, whose ranges include `last`.
bool SpaceTab(char c) { return c == ' ' || c == '\t'; }

// First index in [first, last] that is not a blank, or -1.
int NextNonSpaceTab(const char* b, int first, int last) {
  for (; first <= last; first++)
    if (!SpaceTab(b[first])) return first;
  return -1;
}

// First index in [first, last] that is a blank or NUL, or -1.
int NextTerminator(const char* b, int first, int last) {
  for (; first <= last; first++)
    if (SpaceTab(b[first]) || b[first] == '\0') return first;
  return -1;
}

// The C string at b[from] cut at `end` (exclusive) or at a NUL before it:
// the kernel NUL-terminates in place, so an embedded NUL ends a string.
std::string CString(const char* b, int from, int end) {
  const char* nul = static_cast<const char*>(std::memchr(b + from, '\0', end - from));
  return std::string(b + from, nul ? nul : b + end);
}

}  // namespace

bool IsShebang(std::span<const uint8_t> head) { return head.size() >= 2 && head[0] == '#' && head[1] == '!'; }

ErrnoOr<Shebang> ParseShebang(std::span<const uint8_t> head) {
  if (!IsShebang(head)) return Errno(ENOEXEC);
  // The kernel's buffer is zero-padded when the file is shorter.
  std::array<char, kBinprmBufSize> buf{};
  std::memcpy(buf.data(), head.data(), std::min(head.size(), buf.size()));
  const char* b = buf.data();
  const int buf_end = kBinprmBufSize - 1;

  // Without a newline in the buffer the line may be cut: accept it only
  // if the interpreter name visibly ends (blank or NUL) inside the buffer.
  int i_end;
  if (const void* nl = std::memchr(b, '\n', buf.size())) {
    i_end = static_cast<const char*>(nl) - b;
  } else {
    int name = NextNonSpaceTab(b, 2, buf_end);
    if (name < 0) return Errno(ENOEXEC);  // all blanks
    if (NextTerminator(b, name, buf_end) < 0) return Errno(ENOEXEC);
    i_end = buf_end;
  }
  while (SpaceTab(b[i_end - 1])) i_end--;  // stops at '!' at the latest

  int i_name = NextNonSpaceTab(b, 2, i_end);
  if (i_name < 0 || i_name == i_end) return Errno(ENOEXEC);  // no interpreter

  Shebang sb;
  int i_sep = NextTerminator(b, i_name, i_end);
  int i_arg = -1;
  if (i_sep >= 0 && b[i_sep] != '\0') i_arg = NextNonSpaceTab(b, i_sep, i_end);
  if (i_arg >= 0) {
    // An arg starting with NUL is "" and still passed, as on Linux.
    sb.interpreter = CString(b, i_name, i_sep);
    sb.arg = CString(b, i_arg, i_end);
  } else {
    sb.interpreter = CString(b, i_name, i_end);
  }
  return sb;
}

std::vector<std::string> ScriptArgv(const Shebang& sb, std::string_view script,
                                    const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  out.reserve(argv.size() + 3);
  out.push_back(sb.interpreter);
  if (sb.arg) out.push_back(*sb.arg);
  out.emplace_back(script);
  // argv[0] is replaced by the script path (remove_arg_zero()).
  for (size_t i = 1; i < argv.size(); i++) out.push_back(argv[i]);
  return out;
}

ErrnoOr<int> FollowShebangs(std::vector<uint8_t> head, std::string script_path, bool path_inaccessible,
                            std::vector<std::string>& argv, OpenInterpreterFn open) {
  for (int depth = 0;; depth++) {
    // Linux checks the depth before looking at the file, so even a valid
    // ELF reached after five scripts is ELOOP.
    if (depth >= kMaxExecDepth) return Errno(ELOOP);
    if (!IsShebang(head)) return depth;
    PAL_TRY(Shebang sb, ParseShebang(head));
    // The interpreter would re-open the script by a path that is gone.
    if (path_inaccessible) return Errno(ENOENT);
    argv = ScriptArgv(sb, script_path, argv);
    script_path = sb.interpreter;
    PAL_TRY(head, open(sb.interpreter));
  }
}

}  // namespace palisade::loader
