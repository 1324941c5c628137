#include "runsc/cli/signals.h"

#include <signal.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace palisade::cli {
namespace {

constexpr std::pair<const char*, int> kSignals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM},     {"BUS", SIGBUS},   {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT},     {"FPE", SIGFPE},   {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},       {"IO", SIGIO},     {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE},     {"POLL", SIGPOLL}, {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT},     {"SEGV", SIGSEGV}, {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},       {"TERM", SIGTERM}, {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2},     {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

// Linux's fixed real-time range (glibc reserves 32 and 33 for itself, but
// a container's libc may use them).
constexpr int kRtMin = 34, kRtMax = 64;

}  // namespace

absl::StatusOr<int> ParseSignal(const std::string& raw) {
  auto unknown = [&] { return absl::InvalidArgumentError(absl::StrCat("unknown signal \"", raw, "\"")); };
  int n;
  if (absl::SimpleAtoi(raw, &n)) {
    if (n < 1 || n > 64) return unknown();
    return n;
  }
  std::string name = absl::AsciiStrToUpper(raw);
  if (absl::StartsWith(name, "SIG")) name = name.substr(3);
  for (const auto& [s, num] : kSignals) {
    if (name == s) return num;
  }
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n.
  int offset = 0;
  if (absl::StartsWith(name, "RTMIN")) {
    std::string rest = name.substr(5);
    if (rest.empty()) return kRtMin;
    if (rest[0] == '+' && absl::SimpleAtoi(rest.substr(1), &offset) && offset >= 0 &&
        kRtMin + offset <= kRtMax) {
      return kRtMin + offset;
    }
  } else if (absl::StartsWith(name, "RTMAX")) {
    std::string rest = name.substr(5);
    if (rest.empty()) return kRtMax;
    if (rest[0] == '-' && absl::SimpleAtoi(rest.substr(1), &offset) && offset >= 0 &&
        kRtMax - offset >= kRtMin) {
      return kRtMax - offset;
    }
  }
  return unknown();
}

}  // namespace palisade::cli
