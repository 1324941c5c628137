// The sentry's side of the control socket. `palisade boot` creates one
// over the listening socket the front end bound at <state dir>/control.sock
// and hands it the kernel at the start barrier; from then on a thread per
// connection serves start, signal, ps, stats, wait and exec requests.
//
//   ControlServer server(listen_fd);
//   hooks.at_start_barrier = [&](Kernel& k) { return server.ServeUntilStart(k, ready); };
//   int code = RunSandbox(cfg, hooks);
//   server.Finish(code);  // answers waiters with the exit code
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "sentry/control/control.pb.h"

namespace palisade {
class Kernel;
class ThreadGroup;
}  // namespace palisade

namespace palisade::control {

class ControlServer {
 public:
  explicit ControlServer(int listen_fd);  // takes ownership
  ~ControlServer();

  // Starts serving with kernel k, calls ready() (the front end's `create`
  // may return), then blocks until a Start request arrives. Returns
  // nullopt to start the container, or the exit code if a signal ended
  // it before start (runc's init dies of a signal at its exec barrier).
  std::optional<int> ServeUntilStart(Kernel& k, const std::function<void()>& ready);

  // The sandbox ended with exit_code: answers Wait requests, then stops
  // accepting (waits briefly for answers in flight).
  void Finish(int exit_code);

 private:
  void AcceptLoop();
  void ServeConnection(int conn);
  Response Handle(const Request& req, std::vector<int>& fds);
  Response HandleSignal(const SignalRequest& req);
  Response HandleWait(const WaitRequest& req);
  Response HandleExec(const ExecRequest& req, std::vector<int>& fds);
  Response HandlePs();
  Response HandleStats();

  int listen_fd_;
  int stop_pipe_[2] = {-1, -1};
  Kernel* kernel_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  bool start_requested_ = false;
  std::optional<int> barrier_exit_;  // killed before start
  std::optional<int> exit_code_;     // the sandbox ended
  int active_connections_ = 0;
  bool accepting_ = false;
  // Processes started by exec, kept until their exit status is collected.
  std::map<int, std::shared_ptr<ThreadGroup>> execs_;
};

}  // namespace palisade::control
