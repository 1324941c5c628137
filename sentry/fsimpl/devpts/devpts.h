// devpts: the sandbox's pseudoterminals. One instance per sentry (a
// sandbox is one container, so this is Linux's devpts with newinstance):
//
//   /dev/pts/          root 0755, this filesystem (devfs's "pts" entry, and
//                      what an OCI "devpts" mount at /dev/pts gets)
//   /dev/pts/ptmx      c 5:2 0666: each open makes a new pair, locked
//   /dev/pts/N         c 136:N 0620, owned by the opener of the master;
//                      present while the master is open
//   /dev/ptmx          devfs's symlink to pts/ptmx, as runc sets it up
//
// The pair itself is a Terminal (terminal.h); the files are MasterFile and
// ReplicaFile (pty_files.h). For boot and the OCI front end's
// `terminal: true`, OpenPtyPair makes a pair from outside any task:
//
//   PAL_TRY(devpts::PtyPair p, devpts::OpenPtyPair(kernel, init_creds));
//   init.fds().Set(0, p.replica, false); ...   // the container's stdio
//   // pump p.master <-> the host console (Read/Write/Readiness on it)
#pragma once

#include "sentry/kernel/credentials.h"
#include "sentry/vfs/inode.h"

namespace palisade {
class Kernel;
class Terminal;
}  // namespace palisade

namespace palisade::devpts {

inline constexpr int kMaxPtys = 4096;  // kernel.pty.max; ENOSPC past it

InodeRef Root();

// open("/dev/ptmx"): a new pair's master, the replica locked. flags: the
// open flags (access mode, O_NONBLOCK). ENOSPC when all indexes are used.
ErrnoOr<FileRef> OpenMaster(Kernel& k, const Credentials& c, int flags);

// Opens the replica of `term` (open of /dev/pts/N, TIOCGPTPEER, boot).
// opener: the task, for the controlling-terminal rule (null: none). EIO if
// the pair is locked or hung up.
ErrnoOr<FileRef> OpenReplica(const std::shared_ptr<Terminal>& term, Task* opener, int flags);

struct PtyPair {
  FileRef master;   // O_RDWR
  FileRef replica;  // O_RDWR, unlocked; nobody's controlling terminal yet
  int index = 0;    // N of /dev/pts/N
};
ErrnoOr<PtyPair> OpenPtyPair(Kernel& k, const Credentials& c);

}  // namespace palisade::devpts
