// Syscall dispatch: table lookup, the handler call, and --strace output.
#include <fcntl.h>
#include <sys/mman.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/syscalls/syscall_table.h"

namespace palisade {
namespace {

SyscallArgs ArgsFromRegs(const platform::Registers& r) {
  SyscallArgs a;
  a.nr = static_cast<int>(r.orig_rax);
  a.args = {SyscallArg{r.rdi}, SyscallArg{r.rsi}, SyscallArg{r.rdx},
            SyscallArg{r.r10}, SyscallArg{r.r8}, SyscallArg{r.r9}};
  return a;
}

std::string Quote(const std::string& s, size_t max = 64) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < max; i++) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') absl::StrAppend(&out, "\\", std::string(1, c));
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 32 || c >= 127) absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    else out += static_cast<char>(c);
  }
  out += "\"";
  if (s.size() > max) out += "...";
  return out;
}

struct FlagName {
  uint64_t bit;
  const char* name;
};
constexpr FlagName kOpenFlags[] = {
    {O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"},
    {O_NOCTTY, "O_NOCTTY"}, {O_TRUNC, "O_TRUNC"}, {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"},
    {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},
};
constexpr FlagName kProt[] = {{PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"}};
constexpr FlagName kMapFlags[] = {
    {MAP_SHARED, "MAP_SHARED"}, {MAP_PRIVATE, "MAP_PRIVATE"}, {MAP_FIXED, "MAP_FIXED"},
    {MAP_ANONYMOUS, "MAP_ANONYMOUS"}, {MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {MAP_NORESERVE, "MAP_NORESERVE"},
    {MAP_STACK, "MAP_STACK"}, {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
};

template <size_t N>
std::string Flags(uint64_t v, const FlagName (&names)[N], const char* zero) {
  std::string out;
  for (const auto& f : names) {
    if (f.bit && (v & f.bit) == f.bit) {
      if (!out.empty()) out += "|";
      out += f.name;
      v &= ~f.bit;
    }
  }
  if (v) absl::StrAppend(&out, out.empty() ? "" : "|", "0x", absl::Hex(v));
  return out.empty() ? zero : out;
}

// len: the byte count that goes with a buffer argument (the next argument).
std::string FormatArg(Task& t, std::string_view kind, uint64_t v, int64_t result, bool after, uint64_t len) {
  if (kind == "fd") return std::to_string(static_cast<int>(v));
  if (kind == "dirfd") return static_cast<int>(v) == AT_FDCWD ? "AT_FDCWD" : std::to_string(static_cast<int>(v));
  if (kind == "int" || kind == "size") return std::to_string(static_cast<int64_t>(v));
  if (kind == "mode") return absl::StrCat("0", absl::Hex(v));
  if (kind == "oflags") {
    int acc = static_cast<int>(v) & O_ACCMODE;
    std::string out = acc == O_WRONLY ? "O_WRONLY" : acc == O_RDWR ? "O_RDWR" : "O_RDONLY";
    std::string rest = Flags(v & ~uint64_t(O_ACCMODE), kOpenFlags, "");
    return rest.empty() ? out : out + "|" + rest;
  }
  if (kind == "prot") return Flags(v, kProt, "PROT_NONE");
  if (kind == "mflags") return Flags(v, kMapFlags, "0");
  if (kind == "signal") return std::to_string(static_cast<int>(v));
  if (kind == "path" || kind == "str") {
    if (v == 0) return "NULL";
    auto s = t.CopyInString(v, 4096);
    return s.ok() ? Quote(*s) : absl::StrCat("0x", absl::Hex(v));
  }
  if (kind == "inbuf" || (kind == "outbuf" && after && result > 0)) {
    size_t n = kind == "inbuf" ? std::min<uint64_t>(len, 32) : std::min<int64_t>(result, 32);
    std::string buf(n, '\0');
    if (v && t.CopyIn(v, buf.data(), n).ok()) return Quote(buf, 32);
  }
  if (kind == "argv" && v) {
    std::string out = "[";
    for (int i = 0; i < 8; i++) {
      uint64_t p = 0;
      if (!t.CopyIn(v + 8 * i, &p, 8).ok() || !p) break;
      auto s = t.CopyInString(p, 256);
      absl::StrAppend(&out, i ? ", " : "", s.ok() ? Quote(*s, 32) : "?");
    }
    return out + "]";
  }
  if (v == 0 && (kind == "ptr" || kind == "outbuf" || kind == "inbuf")) return "NULL";
  return absl::StrCat("0x", absl::Hex(v));
}

std::string FormatCall(Task& t, const SyscallEntry* e, const SyscallArgs& a, int64_t result, bool after) {
  std::string out = absl::StrCat("[", t.tgid(), ":", t.tid(), "] ", e ? e->name : "syscall", "(");
  if (!e) {
    absl::StrAppend(&out, a.nr);
  } else if (*e->args) {
    int i = 0;
    for (absl::string_view k : absl::StrSplit(e->args, ',')) {
      std::string_view kind(k.data(), k.size());
      if (i) out += ", ";
      out += FormatArg(t, kind, a[i].raw, result, after, i < 5 ? a[i + 1].raw : 0);
      if (++i == 6) break;
    }
  }
  out += ")";
  return out;
}

std::string FormatResult(int64_t r) {
  if (r < 0 && r >= -4095) return absl::StrCat("-1 ", Errno(static_cast<int>(-r)).Name());
  if (r > 0xffff) return absl::StrCat("0x", absl::Hex(r));
  return std::to_string(r);
}

}  // namespace

int64_t DispatchSyscall(Task& t) {
  SyscallArgs a = ArgsFromRegs(t.regs());
  const SyscallEntry* e = LookupSyscall(a.nr);
  const bool strace = t.kernel().strace();
  // Calls that never return to the caller's frame are printed up front.
  const bool printed_early = strace && e && (a.nr == 59 || a.nr == 60 || a.nr == 231 || a.nr == 15 || a.nr == 322);
  if (printed_early) spdlog::info("{} ...", FormatCall(t, e, a, 0, false));
  int64_t r;
  if (!e || !e->handler) {
    t.kernel().ReportUnimplemented(a.nr, e ? e->name : nullptr);
    r = -ENOSYS;
  } else {
    r = e->handler(t, a).raw();
  }
  // exit/exit_group never return; execve's "after" view is the new image.
  if (strace && !(printed_early && a.nr != 59 && a.nr != 322)) {
    spdlog::info("{} = {}", a.nr == 59 || a.nr == 322 ? absl::StrCat("[", t.tgid(), ":", t.tid(), "] ", e->name, "(...)")
                                                       : FormatCall(t, e, a, r, true),
                 FormatResult(r));
  }
  return r;
}

}  // namespace palisade
