#include "runsc/container/hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace palisade {
namespace {

absl::Status RunHook(const oci::Hook& hook, const std::string& state_json, const char* kind) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  std::vector<std::string> args = hook.args;
  if (args.empty()) args.push_back(hook.path);
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork hook");
  if (pid == 0) {
    dup2(in[0], 0);
    // The hook's stdout/stderr are the runtime's (runc's behaviour).
    execve(hook.path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  signal(SIGPIPE, SIG_IGN);
  (void)!write(in[1], state_json.data(), state_json.size());
  close(in[1]);
  const auto deadline = hook.timeout && *hook.timeout > 0
                            ? std::chrono::steady_clock::now() + std::chrono::seconds(*hook.timeout)
                            : std::chrono::steady_clock::time_point::max();
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return ErrnoStatus(errno, "wait for hook");
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(
          absl::StrCat("error running ", kind, " hook ", hook.path, ": timeout after ",
                       *hook.timeout, "s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  std::string how = WIFEXITED(status) ? absl::StrCat("exit status ", WEXITSTATUS(status))
                                      : absl::StrCat("signal ", WTERMSIG(status));
  return absl::FailedPreconditionError(
      absl::StrCat("error running ", kind, " hook ", hook.path, ": ", how));
}

}  // namespace

absl::Status RunHooks(const std::vector<oci::Hook>& hooks, const ContainerState& state,
                      const char* kind) {
  if (hooks.empty()) return absl::OkStatus();
  const std::string json = StateToJson(state).dump();
  for (const oci::Hook& h : hooks) PAL_RETURN_IF_ERROR(RunHook(h, json, kind));
  return absl::OkStatus();
}

nlohmann::json HooksToJson(const std::vector<oci::Hook>& hooks) {
  nlohmann::json arr = nlohmann::json::array();
  for (const oci::Hook& h : hooks) {
    nlohmann::json j = {{"path", h.path}, {"args", h.args}, {"env", h.env}};
    if (h.timeout) j["timeout"] = *h.timeout;
    arr.push_back(j);
  }
  return arr;
}

std::vector<oci::Hook> HooksFromJson(const nlohmann::json& j) {
  std::vector<oci::Hook> out;
  if (!j.is_array()) return out;
  for (const nlohmann::json& h : j) {
    oci::Hook hook;
    hook.path = h.value("path", "");
    hook.args = h.value("args", std::vector<std::string>{});
    hook.env = h.value("env", std::vector<std::string>{});
    if (h.contains("timeout")) hook.timeout = h["timeout"].get<int64_t>();
    out.push_back(std::move(hook));
  }
  return out;
}

}  // namespace palisade
