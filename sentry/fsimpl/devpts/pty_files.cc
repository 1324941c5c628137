#include "sentry/fsimpl/devpts/pty_files.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <climits>

#include "sentry/fsimpl/devpts/devpts.h"
#include "sentry/kernel/task.h"

namespace palisade::devpts {

MasterFile::MasterFile(std::shared_ptr<Terminal> term, int flags, InodeAttr ptmx_attr)
    : FileDescription(flags), term_(std::move(term)), ptmx_attr_(ptmx_attr) {}

MasterFile::~MasterFile() { term_->MasterClosed(); }

ErrnoOr<int64_t> MasterFile::Ioctl(Task& t, uint64_t cmd, uint64_t arg) {
  if (cmd != TIOCGPTPEER) return term_->Ioctl(t, true, cmd, arg);
  // arg: open flags for the new replica file (ptm_open_peer keeps the
  // ones that mean something for a tty and ignores the rest).
  int flags = static_cast<int>(arg) & (O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  PAL_TRY(FileRef f, OpenReplica(term_, &t, flags));
  PAL_TRY(int fd, t.fds().Add(f, flags & O_CLOEXEC));
  return int64_t(fd);
}

ErrnoOr<struct stat> MasterFile::Stat(Task& t) { return InodeAttrToStat(ptmx_attr_); }

ReplicaFile::ReplicaFile(std::shared_ptr<Terminal> term, int flags, uint64_t dev)
    : FileDescription(flags), term_(std::move(term)), dev_(dev) {}

ReplicaFile::~ReplicaFile() { term_->ReplicaClosed(); }

ErrnoOr<struct stat> ReplicaFile::Stat(Task& t) { return InodeAttrToStat(term_->ReplicaAttr(dev_)); }

std::string ReplicaFile::DisplayName() const { return "/dev/pts/" + std::to_string(term_->index()); }

}  // namespace palisade::devpts
