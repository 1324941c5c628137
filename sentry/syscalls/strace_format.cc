#include "sentry/syscalls/strace_format.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/ioctl_names.h"

namespace palisade {
namespace {

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

std::string Hex(uint64_t v) { return absl::StrCat("0x", absl::Hex(v)); }

struct FlagName {
  uint64_t bit;
  const char* name;
};
constexpr FlagName kOpenFlags[] = {
    {O_CREAT, "O_CREAT"},         {O_EXCL, "O_EXCL"},         {O_NOCTTY, "O_NOCTTY"},
    {O_TRUNC, "O_TRUNC"},         {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
    {O_TMPFILE, "O_TMPFILE"},     {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
    {O_CLOEXEC, "O_CLOEXEC"},     {O_PATH, "O_PATH"},         {O_DSYNC, "O_DSYNC"},
    {O_SYNC, "O_SYNC"},           {O_NOATIME, "O_NOATIME"},   {O_DIRECT, "O_DIRECT"},
    {O_LARGEFILE, "O_LARGEFILE"}, {O_ASYNC, "O_ASYNC"},
};
constexpr FlagName kAtFlags[] = {
    {AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"}, {AT_REMOVEDIR, "AT_REMOVEDIR"},
    {AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},     {AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
    {AT_EMPTY_PATH, "AT_EMPTY_PATH"},             {AT_STATX_FORCE_SYNC, "AT_STATX_FORCE_SYNC"},
    {AT_STATX_DONT_SYNC, "AT_STATX_DONT_SYNC"},
};
constexpr FlagName kProt[] = {{PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"},
                              {PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {PROT_GROWSUP, "PROT_GROWSUP"}};
constexpr FlagName kMapFlags[] = {
    {MAP_SHARED, "MAP_SHARED"},       {MAP_PRIVATE, "MAP_PRIVATE"},     {MAP_FIXED, "MAP_FIXED"},
    {MAP_ANONYMOUS, "MAP_ANONYMOUS"}, {MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {MAP_NORESERVE, "MAP_NORESERVE"},
    {MAP_STACK, "MAP_STACK"},         {MAP_POPULATE, "MAP_POPULATE"},   {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
    {MAP_DENYWRITE, "MAP_DENYWRITE"}, {MAP_EXECUTABLE, "MAP_EXECUTABLE"}, {MAP_LOCKED, "MAP_LOCKED"},
    {MAP_NONBLOCK, "MAP_NONBLOCK"},   {MAP_HUGETLB, "MAP_HUGETLB"},
};
constexpr FlagName kCloneFlags[] = {
    {CLONE_VM, "CLONE_VM"},
    {CLONE_FS, "CLONE_FS"},
    {CLONE_FILES, "CLONE_FILES"},
    {CLONE_SIGHAND, "CLONE_SIGHAND"},
    {CLONE_PIDFD, "CLONE_PIDFD"},
    {CLONE_PTRACE, "CLONE_PTRACE"},
    {CLONE_VFORK, "CLONE_VFORK"},
    {CLONE_PARENT, "CLONE_PARENT"},
    {CLONE_THREAD, "CLONE_THREAD"},
    {CLONE_NEWNS, "CLONE_NEWNS"},
    {CLONE_SYSVSEM, "CLONE_SYSVSEM"},
    {CLONE_SETTLS, "CLONE_SETTLS"},
    {CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"},
    {CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
    {CLONE_UNTRACED, "CLONE_UNTRACED"},
    {CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
    {CLONE_NEWUTS, "CLONE_NEWUTS"},
    {CLONE_NEWIPC, "CLONE_NEWIPC"},
    {CLONE_NEWUSER, "CLONE_NEWUSER"},
    {CLONE_NEWPID, "CLONE_NEWPID"},
    {CLONE_NEWNET, "CLONE_NEWNET"},
    {CLONE_IO, "CLONE_IO"},
};
constexpr FlagName kAccessMode[] = {{R_OK, "R_OK"}, {W_OK, "W_OK"}, {X_OK, "X_OK"}};

struct ValueName {
  uint64_t value;
  const char* name;
};
constexpr ValueName kWhence[] = {
    {SEEK_SET, "SEEK_SET"}, {SEEK_CUR, "SEEK_CUR"}, {SEEK_END, "SEEK_END"},
    {SEEK_DATA, "SEEK_DATA"}, {SEEK_HOLE, "SEEK_HOLE"},
};
constexpr ValueName kFcntlCmds[] = {
    {F_DUPFD, "F_DUPFD"},
    {F_GETFD, "F_GETFD"},
    {F_SETFD, "F_SETFD"},
    {F_GETFL, "F_GETFL"},
    {F_SETFL, "F_SETFL"},
    {F_GETLK, "F_GETLK"},
    {F_SETLK, "F_SETLK"},
    {F_SETLKW, "F_SETLKW"},
    {F_SETOWN, "F_SETOWN"},
    {F_GETOWN, "F_GETOWN"},
    {F_SETSIG, "F_SETSIG"},
    {F_GETSIG, "F_GETSIG"},
    {F_OFD_GETLK, "F_OFD_GETLK"},
    {F_OFD_SETLK, "F_OFD_SETLK"},
    {F_OFD_SETLKW, "F_OFD_SETLKW"},
    {F_SETLEASE, "F_SETLEASE"},
    {F_GETLEASE, "F_GETLEASE"},
    {F_NOTIFY, "F_NOTIFY"},
    {F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"},
    {F_SETPIPE_SZ, "F_SETPIPE_SZ"},
    {F_GETPIPE_SZ, "F_GETPIPE_SZ"},
    {F_ADD_SEALS, "F_ADD_SEALS"},
    {F_GET_SEALS, "F_GET_SEALS"},
};
constexpr ValueName kFileTypes[] = {
    {S_IFREG, "S_IFREG"}, {S_IFDIR, "S_IFDIR"},   {S_IFCHR, "S_IFCHR"},  {S_IFBLK, "S_IFBLK"},
    {S_IFIFO, "S_IFIFO"}, {S_IFLNK, "S_IFLNK"},   {S_IFSOCK, "S_IFSOCK"},
};
constexpr ValueName kFamilies[] = {{AF_UNIX, "AF_UNIX"}, {AF_INET, "AF_INET"}, {AF_INET6, "AF_INET6"},
                                   {AF_NETLINK, "AF_NETLINK"}, {AF_UNSPEC, "AF_UNSPEC"}};

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
  if (v) absl::StrAppend(&out, out.empty() ? "" : "|", Hex(v));
  return out.empty() ? zero : out;
}

template <size_t N>
std::string Value(uint64_t v, const ValueName (&names)[N]) {
  for (const auto& n : names)
    if (n.value == v) return n.name;
  return std::to_string(static_cast<int64_t>(v));
}

std::string SignalName(int sig) {
  if (sig == 0) return "0";
  // The kernel's real-time range starts at 32 (glibc's SIGRTMIN is 34
  // because it keeps two for itself), as strace counts them.
  if (sig >= 32 && sig <= 64) return absl::StrCat("SIGRT_", sig - 32);
  if (sig > 0 && sig < 32) {
    if (const char* abbrev = sigabbrev_np(sig)) return absl::StrCat("SIG", abbrev);
  }
  return std::to_string(sig);
}

std::string OpenFlags(uint64_t v) {
  int acc = static_cast<int>(v) & O_ACCMODE;
  std::string out = acc == O_WRONLY ? "O_WRONLY" : acc == O_RDWR ? "O_RDWR" : "O_RDONLY";
  // O_TMPFILE includes O_DIRECTORY; name the pair once.
  std::string rest = Flags(v & ~uint64_t(O_ACCMODE), kOpenFlags, "");
  return rest.empty() ? out : out + "|" + rest;
}

std::string Mode(uint32_t mode) {
  for (const auto& t : kFileTypes) {
    if ((mode & S_IFMT) == t.value) return absl::StrFormat("%s|0%o", t.name, mode & 07777);
  }
  return absl::StrFormat("0%o", mode);
}

std::string SigsetText(uint64_t mask) {
  std::string out = "[";
  bool first = true;
  for (int s = 1; s <= 64; s++) {
    if (!(mask & (1ull << (s - 1)))) continue;
    std::string name = SignalName(s);
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    absl::StrAppend(&out, first ? "" : " ", name);
    first = false;
  }
  return out + "]";
}

std::string Sockaddr(Task& t, uint64_t addr, uint64_t len) {
  sockaddr_storage ss{};
  size_t n = std::min<uint64_t>(len, sizeof(ss));
  if (n < sizeof(sa_family_t) || !t.CopyIn(addr, &ss, n).ok()) return Hex(addr);
  std::string out = absl::StrCat("{sa_family=", Value(ss.ss_family, kFamilies));
  if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    size_t plen = n - offsetof(sockaddr_un, sun_path);
    std::string path(un->sun_path, plen);
    if (!path.empty() && path[0] == '\0') {
      absl::StrAppend(&out, ", sun_path=@", Quote(path.substr(1)));
    } else {
      absl::StrAppend(&out, ", sun_path=", Quote(std::string(path.c_str())));
    }
  } else if (ss.ss_family == AF_INET && n >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    char buf[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    absl::StrAppend(&out, ", sin_port=htons(", ntohs(in->sin_port), "), sin_addr=inet_addr(\"", buf, "\")");
  } else if (ss.ss_family == AF_INET6 && n >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    char buf[INET6_ADDRSTRLEN] = "";
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    absl::StrAppend(&out, ", sin6_port=htons(", ntohs(in6->sin6_port), "), sin6_addr=\"", buf, "\"");
  }
  return out + "}";
}

}  // namespace

std::string FormatScalarArg(std::string_view kind, uint64_t v) {
  if (kind == "fd") return std::to_string(static_cast<int>(v));
  if (kind == "dirfd") return static_cast<int>(v) == AT_FDCWD ? "AT_FDCWD" : std::to_string(static_cast<int>(v));
  if (kind == "int" || kind == "size") return std::to_string(static_cast<int64_t>(v));
  if (kind == "mode") return absl::StrFormat("0%o", v);
  if (kind == "oflags") return OpenFlags(v);
  if (kind == "atflags") return Flags(v, kAtFlags, "0");
  if (kind == "prot") return Flags(v, kProt, "PROT_NONE");
  if (kind == "mflags") return Flags(v, kMapFlags, "0");
  if (kind == "cloneflags") {
    int sig = static_cast<int>(v & CSIGNAL);
    std::string f = Flags(v & ~uint64_t(CSIGNAL), kCloneFlags, "");
    if (sig) f = f.empty() ? SignalName(sig) : absl::StrCat(f, "|", SignalName(sig));
    return f.empty() ? "0" : f;
  }
  if (kind == "signal") return SignalName(static_cast<int>(v));
  if (kind == "whence") return Value(v, kWhence);
  if (kind == "accessmode") return v == F_OK ? "F_OK" : Flags(v, kAccessMode, "F_OK");
  if (kind == "fcntlcmd") return Value(v, kFcntlCmds);
  if (kind == "ioctlreq") return IoctlName(v);
  if (kind == "hex") return Hex(v);
  return "";
}

std::string FormatArg(Task& t, std::string_view kind, uint64_t v, int64_t result, bool after, uint64_t len) {
  std::string scalar = FormatScalarArg(kind, v);
  if (!scalar.empty()) return scalar;
  const bool ok = after && (result >= 0 || result < -4095);
  if (v == 0) return "NULL";
  if (kind == "path" || kind == "str") {
    auto s = t.CopyInString(v, 4096);
    return s.ok() ? Quote(*s) : Hex(v);
  }
  if (kind == "inbuf" || (kind == "outbuf" && ok && result > 0)) {
    size_t n = kind == "inbuf" ? std::min<uint64_t>(len, 32) : std::min<int64_t>(result, 32);
    std::string buf(n, '\0');
    if (t.CopyIn(v, buf.data(), n).ok()) return Quote(buf, 32);
  }
  if (kind == "argv") {
    std::string out = "[";
    for (int i = 0; i < 8; i++) {
      uint64_t p = 0;
      if (!t.CopyIn(v + 8 * i, &p, 8).ok() || !p) break;
      auto s = t.CopyInString(p, 256);
      absl::StrAppend(&out, i ? ", " : "", s.ok() ? Quote(*s, 32) : "?");
    }
    return out + "]";
  }
  if (kind == "stat" && ok) {
    struct stat st;
    if (t.CopyInObj(v, st).ok()) {
      std::string out = absl::StrCat("{st_mode=", Mode(st.st_mode));
      if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        absl::StrAppend(&out, ", st_rdev=makedev(", major(st.st_rdev), ", ", minor(st.st_rdev), ")");
      } else {
        absl::StrAppend(&out, ", st_size=", st.st_size);
      }
      return out + ", ...}";
    }
  }
  if (kind == "timespec") {
    struct timespec ts;
    if (t.CopyInObj(v, ts).ok()) return absl::StrCat("{tv_sec=", ts.tv_sec, ", tv_nsec=", ts.tv_nsec, "}");
  }
  if (kind == "sigset") {
    uint64_t mask = 0;
    if (t.CopyInObj(v, mask).ok()) return SigsetText(mask);
  }
  if (kind == "sockaddr") return Sockaddr(t, v, len);
  if (v == 0) return "NULL";
  return Hex(v);
}

std::string FormatSyscall(Task& t, const SyscallEntry* e, const SyscallArgs& a, int64_t result, bool after) {
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
  if (r > 0xffff) return Hex(r);
  return std::to_string(r);
}

}  // namespace palisade
