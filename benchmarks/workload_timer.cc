// workload_timer: times real programs from inside a container, so that the
// container's own start-up is not part of the measurement.
//
//   workload_timer <workloads-file>
//
// Each non-empty line of the file not starting with '#' is
//   <name> <repetitions> <program> [args...]      (split on whitespace)
// Every program runs <repetitions> times (fork, execvp, waitpid); one JSON
// object per workload goes to stdout:
//   {"name": "python3", "reps": 5, "median_ns": ..., "min_ns": ..., "status": 0}
// status is the first non-zero wait status (0 when every run exited 0).
// The program's own stdout is sent to /dev/null, its stderr is kept.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Runs argv once; returns the wait status (or -1 if fork failed).
int RunOnce(const std::vector<std::string>& argv) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    execvp(cargv[0], cargv.data());
    perror(cargv[0]);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <workloads-file>\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    fprintf(stderr, "workload_timer: cannot read %s\n", argv[1]);
    return 2;
  }
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    int reps = 0;
    if (!(words >> name) || name[0] == '#') continue;
    if (!(words >> reps) || reps < 1) {
      fprintf(stderr, "workload_timer: bad line: %s\n", line.c_str());
      return 2;
    }
    std::vector<std::string> cmd;
    for (std::string w; words >> w;) cmd.push_back(w);
    if (cmd.empty()) {
      fprintf(stderr, "workload_timer: no program on line: %s\n", line.c_str());
      return 2;
    }
    std::vector<int64_t> times;
    int bad_status = 0;
    for (int i = 0; i < reps; i++) {
      int64_t start = NowNs();
      int status = RunOnce(cmd);
      times.push_back(NowNs() - start);
      if (status != 0 && bad_status == 0) bad_status = status;
    }
    std::sort(times.begin(), times.end());
    printf("{\"name\": \"%s\", \"reps\": %d, \"median_ns\": %lld, \"min_ns\": %lld, \"status\": %d}\n",
           name.c_str(), reps, static_cast<long long>(times[times.size() / 2]),
           static_cast<long long>(times[0]), bad_status);
    fflush(stdout);
  }
  return 0;
}
