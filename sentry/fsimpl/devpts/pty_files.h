// The two open-file kinds of a pseudoterminal: MasterFile (from
// /dev/ptmx) and ReplicaFile (/dev/pts/N). Both forward to the pair's
// Terminal (terminal.h); they add only what is per file: the end's wait
// queue, fstat, the name in /proc/<pid>/fd, and the close that hangs the
// pair up (master) or may leave the master with no replica (POLLHUP).
#pragma once

#include <memory>

#include "sentry/fsimpl/devpts/terminal.h"
#include "sentry/vfs/file_description.h"

namespace palisade::devpts {

class MasterFile final : public FileDescription {
 public:
  MasterFile(std::shared_ptr<Terminal> term, int flags, InodeAttr ptmx_attr);
  ~MasterFile() override;
  const std::shared_ptr<Terminal>& terminal() const { return term_; }

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override { return term_->MasterRead(dst); }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override { return term_->MasterWrite(src); }
  // Terminal::Ioctl plus TIOCGPTPEER (a new fd for the replica).
  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override;
  ErrnoOr<struct stat> Stat(Task& t) override;
  uint32_t Readiness(uint32_t mask) override { return term_->MasterReadiness(mask); }
  void EventRegister(Waiter* w, uint32_t mask) override { term_->master_queue().Register(w, mask); }
  void EventUnregister(Waiter* w) override { term_->master_queue().Unregister(w); }
  std::string DisplayName() const override { return "/dev/ptmx"; }

 private:
  std::shared_ptr<Terminal> term_;
  InodeAttr ptmx_attr_;
};

class ReplicaFile final : public FileDescription {
 public:
  ReplicaFile(std::shared_ptr<Terminal> term, int flags, uint64_t dev);
  ~ReplicaFile() override;

  ErrnoOr<int64_t> Read(Task& t, std::span<uint8_t> dst) override { return term_->ReplicaRead(t, dst); }
  ErrnoOr<int64_t> Write(Task& t, std::span<const uint8_t> src) override { return term_->ReplicaWrite(t, src); }
  ErrnoOr<int64_t> Ioctl(Task& t, uint64_t cmd, uint64_t arg) override { return term_->Ioctl(t, false, cmd, arg); }
  ErrnoOr<struct stat> Stat(Task& t) override;
  uint32_t Readiness(uint32_t mask) override { return term_->ReplicaReadiness(mask); }
  void EventRegister(Waiter* w, uint32_t mask) override { term_->replica_queue().Register(w, mask); }
  void EventUnregister(Waiter* w) override { term_->replica_queue().Unregister(w); }
  std::string DisplayName() const override;

 private:
  std::shared_ptr<Terminal> term_;
  const uint64_t dev_;
};

}  // namespace palisade::devpts
