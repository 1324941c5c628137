// `palisade boot`: the sandbox's own host process. The front end re-execs
// /proc/self/exe with these inherited fds; BootMain reads the BootConfig,
// builds the sandbox, reports readiness (or its root-cause error) on the
// ready pipe, serves the control socket and waits at the start barrier,
// then runs the container and returns its exit code.
#pragma once

namespace palisade {

struct BootFds {
  int config = -1;   // memfd holding the BootConfig JSON
  int control = -1;  // listening control socket (SOCK_SEQPACKET)
  int ready = -1;    // pipe: "ok\n" once at the start barrier, else an error message
};

int BootMain(const BootFds& fds);

}  // namespace palisade
