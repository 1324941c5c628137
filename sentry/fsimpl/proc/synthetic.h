// Building blocks for synthetic filesystems (procfs): a directory whose
// entries come from a function, a read-only file whose bytes are generated
// at open, and a symlink whose target is computed on each read (with an
// optional magic-link target, as /proc/self/exe and /proc/self/fd/N have).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sentry/vfs/fs_context.h"
#include "sentry/vfs/inode.h"

namespace palisade::procfs {

// Stable inode numbers for a synthetic path.
uint64_t InoFor(const std::string& key);
inline constexpr uint64_t kProcFsId = 0x9fa0;  // PROC_SUPER_MAGIC

struct Owner {
  uint32_t uid = 0, gid = 0;
};

class SyntheticFile : public Inode {
 public:
  using Generator = std::function<ErrnoOr<std::string>()>;
  // Takes what the caller writes (a whole write(2) at once); without one
  // the file is read-only whatever its mode says.
  using Writer = std::function<ErrnoOr<int64_t>(Task& caller, std::span<const uint8_t> src)>;
  SyntheticFile(std::string key, uint32_t mode, Owner o, Generator gen, Writer writer = nullptr)
      : key_(std::move(key)), mode_(mode), owner_(o), gen_(std::move(gen)), writer_(std::move(writer)) {}
  ErrnoOr<InodeAttr> GetAttr() override;
  // O_TRUNC of a writable file is accepted and changes nothing, as
  // proc_setattr does; anything else is EPERM.
  Errno SetAttr(const SetAttrRequest& req) override;
  ErrnoOr<FileRef> Open(const OpenRequest& req) override;
  uint64_t FsId() const override { return kProcFsId; }

 private:
  std::string key_;
  uint32_t mode_;
  Owner owner_;
  Generator gen_;
  Writer writer_;
};

class SyntheticSymlink : public Inode {
 public:
  using Target = std::function<ErrnoOr<std::string>()>;
  using Magic = std::function<FileRef(Task&)>;
  SyntheticSymlink(std::string key, Owner o, Target target, Magic magic = nullptr)
      : key_(std::move(key)), owner_(o), target_(std::move(target)), magic_(std::move(magic)) {}
  ErrnoOr<InodeAttr> GetAttr() override;
  ErrnoOr<std::string> ReadLink() override { return target_(); }
  FileRef MagicLinkTarget(Task& t) override { return magic_ ? magic_(t) : nullptr; }
  ErrnoOr<FileRef> Open(const OpenRequest& req) override { return Errno(ELOOP); }
  uint64_t FsId() const override { return kProcFsId; }

 private:
  std::string key_;
  Owner owner_;
  Target target_;
  Magic magic_;
};

// A directory whose children are listed and looked up through callbacks.
class SyntheticDir : public Inode {
 public:
  struct Hooks {
    std::function<std::vector<DirEntry>()> list;
    std::function<ErrnoOr<InodeRef>(std::string_view)> lookup;
  };
  SyntheticDir(std::string key, uint32_t mode, Owner o, Hooks hooks)
      : key_(std::move(key)), mode_(mode), owner_(o), hooks_(std::move(hooks)) {}
  ErrnoOr<InodeAttr> GetAttr() override;
  ErrnoOr<InodeRef> Lookup(std::string_view name) override { return hooks_.lookup(name); }
  ErrnoOr<std::vector<DirEntry>> ReadDir() override { return hooks_.list(); }
  ErrnoOr<FileRef> Open(const OpenRequest& req) override;
  uint64_t FsId() const override { return kProcFsId; }
  const std::string& key() const { return key_; }

 private:
  std::string key_;
  uint32_t mode_;
  Owner owner_;
  Hooks hooks_;
};

// A static directory from a table of named children made on demand.
using ChildFactory = std::function<InodeRef()>;
SyntheticDir::Hooks StaticDirHooks(std::vector<std::pair<std::string, std::pair<uint8_t, ChildFactory>>> rows);

// A file description that only carries a path (for magic links to
// directories such as /proc/self/cwd).
FileRef PathOnlyFile(const VirtualPath& p);

}  // namespace palisade::procfs
