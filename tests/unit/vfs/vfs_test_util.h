// Helpers for the VFS unit tests: a mount namespace over a fresh tmpfs
// root and a PathContext standing in for a task (no Task needed).
#pragma once

#include <fcntl.h>

#include <memory>

#include "gtest/gtest.h"
#include "sentry/fsimpl/tmpfs/tmpfs.h"
#include "sentry/kernel/fd_table.h"
#include "sentry/mm/mappable_file.h"
#include "sentry/vfs/inode_file.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_ops.h"

namespace palisade::testing {

inline Credentials RootCreds() { return Credentials{}; }

inline Credentials UserCreds(uid_t uid = 1000, gid_t gid = 1000) {
  Credentials c;
  c.ruid = c.euid = c.suid = c.fsuid = uid;
  c.rgid = c.egid = c.sgid = c.fsgid = gid;
  c.cap_effective = 0;
  return c;
}

class VfsFixture : public ::testing::Test {
 protected:
  void SetUp() override { UseRoot(tmpfs::NewTmpfsRoot(0755, 0, 0)); }

  void UseRoot(InodeRef root) {
    auto m = std::make_shared<Mount>(std::move(root), nullptr, nullptr, "tmpfs", "none", 0);
    ns_ = std::make_shared<vfs::MountNamespace>(m);
    ctx_.root = ns_->RootPath();
    ctx_.cwd = ns_->RootPath();
    ctx_.creds = RootCreds();
    ctx_.umask = 022;
    ctx_.fds = &fds_;
    ctx_.mounts = ns_.get();
  }

  // A context for another identity, same tree.
  vfs::PathContext As(const Credentials& c) const {
    vfs::PathContext x = ctx_;
    x.creds = c;
    return x;
  }

  ErrnoOr<vfs::ResolvedNode> Node(std::string_view path, bool follow = true) {
    return vfs::ResolveNode(ctx_, AT_FDCWD, path, {.follow = follow});
  }
  // The path text of a resolved path as seen from the context's root.
  std::string Where(std::string_view path, bool follow = true) {
    auto n = Node(path, follow);
    if (!n.ok()) return n.error().Name();
    return vfs::PathString(n->path, ctx_.root);
  }
  Errno Mkdir(std::string_view p, uint32_t mode = 0755) { return vfs::Mkdirat(ctx_, AT_FDCWD, p, mode); }
  Errno Touch(std::string_view p, uint32_t mode = 0644) {
    auto f = vfs::OpenAt(ctx_, AT_FDCWD, p, O_CREAT | O_WRONLY, mode);
    return f.ok() ? Errno::Ok() : f.error();
  }
  Errno Symlink(std::string_view target, std::string_view p) { return vfs::Symlinkat(ctx_, target, AT_FDCWD, p); }
  uint64_t Nlink(std::string_view p) {
    auto n = Node(p, false);
    return n.ok() ? n->attr.nlink : 0;
  }
  // Writes data through the file's mmap source after sizing it (the
  // FileDescription I/O calls need a Task).
  void WriteFile(std::string_view p, std::string_view data) {
    auto n = Node(p);
    ASSERT_TRUE(n.ok());
    SetAttrRequest r;
    r.mask = SetAttrRequest::kSize;
    r.size = static_cast<int64_t>(data.size());
    ASSERT_TRUE(n->path.dentry->inode()->SetAttr(r).ok());
    auto f = vfs::OpenAt(ctx_, AT_FDCWD, p, O_RDWR, 0);
    ASSERT_TRUE(f.ok());
    auto m = (*f)->Mappable();
    ASSERT_TRUE(m);
    auto w = m->WriteAt({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, 0);
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(*w, static_cast<int64_t>(data.size()));
  }
  std::string ReadFile(std::string_view p) {
    auto f = vfs::OpenAt(ctx_, AT_FDCWD, p, O_RDONLY, 0);
    if (!f.ok()) return f.error().Name();
    auto m = (*f)->Mappable();
    if (!m) return "no-mappable";
    std::string s(static_cast<size_t>(m->Size()), '\0');
    auto r = m->ReadAt({reinterpret_cast<uint8_t*>(s.data()), s.size()}, 0);
    if (!r.ok()) return r.error().Name();
    s.resize(static_cast<size_t>(*r));
    return s;
  }

  std::shared_ptr<vfs::MountNamespace> ns_;
  FdTable fds_;
  vfs::PathContext ctx_;
};

}  // namespace palisade::testing
