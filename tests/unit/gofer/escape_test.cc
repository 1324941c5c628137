// Escape attempts against the gofer server: nothing a client sends may
// reach <tmp>/outside/secret (gofer_test_util.h), whatever the tree holds.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "tests/unit/gofer/gofer_test_util.h"

namespace palisade::gofer {
namespace {

using EscapeTest = GoferFixture;

// True if fid's file is the outside secret (by content and by inode).
bool IsOutsideSecret(const std::string& dir, const proto::Node& n) {
  struct stat st;
  if (stat((dir + "/outside/secret").c_str(), &st) != 0) return false;
  return n.attr().ino() == st.st_ino && n.attr().dev() == st.st_dev;
}

TEST_F(EscapeTest, SymlinkToRootIsNotFollowed) {
  ASSERT_EQ(symlink("/", (dir_ + "/root/escape").c_str()), 0);
  Start();
  auto root = Attach();
  ASSERT_TRUE(root.ok());
  auto w = Walk(*root, {"escape", "tmp"});
  ASSERT_TRUE(w.ok());
  // "escape" is returned as the symlink it is; nothing is walked below it.
  ASSERT_EQ(w->nodes_size(), 1);
  EXPECT_TRUE(S_ISLNK(w->nodes(0).attr().mode()));
  EXPECT_EQ(Open(w->nodes(0).fid(), O_RDONLY).error(), Errno(ELOOP));
  EXPECT_EQ(Walk(w->nodes(0).fid(), {"tmp"}).error(), Errno(ENOTDIR));
}

TEST_F(EscapeTest, DotDotAndSlashesAreRefused) {
  Start();
  auto root = Attach();
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(Walk(*root, {".."}).error(), Errno(ENOENT));
  EXPECT_EQ(Walk(*root, {"."}).error(), Errno(ENOENT));
  EXPECT_EQ(Walk(*root, {""}).error(), Errno(ENOENT));
  EXPECT_EQ(Walk(*root, {"../outside"}).error(), Errno(EINVAL));
  EXPECT_EQ(Walk(*root, {"../../../etc/passwd"}).error(), Errno(EINVAL));
  EXPECT_EQ(Walk(*root, {"/etc"}).error(), Errno(EINVAL));
  EXPECT_EQ(Walk(*root, {std::string("etc\0x", 5)}).error(), Errno(EINVAL));
  auto etc = Walk(*root, {"etc"});
  ASSERT_TRUE(etc.ok());
  EXPECT_EQ(Walk(etc->nodes(0).fid(), {".."}).error(), Errno(ENOENT));
  // Attach walks the same way: no ".." out of the root either.
  proto::Request a;
  a.mutable_attach()->set_path("/etc/../../outside");
  EXPECT_EQ(Call(a).error(), Errno(ENOENT));
  // Creating, linking or renaming to such names fails the same way.
  proto::Request c;
  c.mutable_create()->set_dir(*root);
  c.mutable_create()->set_name("../outside/planted");
  c.mutable_create()->set_mode(0644);
  EXPECT_EQ(Call(c).error(), Errno(EINVAL));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/outside/planted"));
  proto::Request rn;
  rn.mutable_rename()->set_old_dir(*root);
  rn.mutable_rename()->set_old_name("secret");
  rn.mutable_rename()->set_new_dir(*root);
  rn.mutable_rename()->set_new_name("../outside/moved");
  EXPECT_EQ(Call(rn).error(), Errno(EINVAL));
}

TEST_F(EscapeTest, AbsoluteSymlinkToHostFileIsOnlyText) {
  const std::string target = dir_ + "/outside/secret";
  ASSERT_EQ(symlink(target.c_str(), (dir_ + "/root/abs").c_str()), 0);
  Start();
  auto root = Attach();
  auto w = Walk(*root, {"abs"});
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(IsOutsideSecret(dir_, w->nodes(0)));
  EXPECT_EQ(Open(w->nodes(0).fid(), O_RDONLY).error(), Errno(ELOOP));
  proto::Request a;
  a.mutable_attach()->set_path("/abs");
  EXPECT_EQ(Call(a).error(), Errno(ELOOP));
  // Setattr on the link changes the link's owner/times, never the target.
  proto::Request sa;
  sa.mutable_setattr()->set_fid(w->nodes(0).fid());
  sa.mutable_setattr()->set_mask(1);
  sa.mutable_setattr()->set_mode(0777);
  EXPECT_EQ(Call(sa).error(), Errno(EOPNOTSUPP));
  struct stat st;
  ASSERT_EQ(stat(target.c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0777, 0777u);
}

TEST_F(EscapeTest, ProcSelfRootMagicLinkIsNotFollowed) {
  // A tree holding a real procfs path (as a host "/" rootfs does).
  ASSERT_EQ(symlink("/proc/self/root", (dir_ + "/root/hostroot").c_str()), 0);
  ASSERT_EQ(symlink("/proc/self/cwd", (dir_ + "/root/cwd").c_str()), 0);
  Start();
  auto root = Attach();
  for (const char* name : {"hostroot", "cwd"}) {
    auto w = Walk(*root, {name, "etc"});
    ASSERT_TRUE(w.ok()) << name;
    EXPECT_EQ(w->nodes_size(), 1) << name;
    EXPECT_TRUE(S_ISLNK(w->nodes(0).attr().mode()));
  }
}

TEST_F(EscapeTest, HardLinksOnlyBetweenFidsInsideTheRoot) {
  Start();
  auto root = Attach();
  auto s = Walk(*root, {"secret"});
  ASSERT_TRUE(s.ok());
  proto::Request l;
  l.mutable_link()->set_target(s->nodes(0).fid());
  l.mutable_link()->set_dir(*root);
  l.mutable_link()->set_name("secret2");
  ASSERT_TRUE(Call(l).ok());
  struct stat a, b;
  ASSERT_EQ(stat((dir_ + "/root/secret").c_str(), &a), 0);
  ASSERT_EQ(stat((dir_ + "/root/secret2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  // A link to a symlink links the symlink itself (never its target).
  ASSERT_EQ(symlink((dir_ + "/outside/secret").c_str(), (dir_ + "/root/ls").c_str()), 0);
  auto ls = Walk(*root, {"ls"});
  ASSERT_TRUE(ls.ok());
  l.mutable_link()->set_target(ls->nodes(0).fid());
  l.mutable_link()->set_name("ls2");
  ASSERT_TRUE(Call(l).ok());
  struct stat c;
  ASSERT_EQ(lstat((dir_ + "/root/ls2").c_str(), &c), 0);
  EXPECT_TRUE(S_ISLNK(c.st_mode));
  // A fid the client invented is refused; names are checked.
  l.mutable_link()->set_target(999999);
  EXPECT_EQ(Call(l).error(), Errno(EBADF));
  l.mutable_link()->set_target(s->nodes(0).fid());
  l.mutable_link()->set_name("../outside/x");
  EXPECT_EQ(Call(l).error(), Errno(EINVAL));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/outside/x"));
}

// The container swaps a directory for a symlink to the outside while the
// sentry walks through it. Every walk must either see the real directory
// or stop at the symlink: never reach outside/secret.
TEST_F(EscapeTest, RenameRaceNeverLeavesTheRoot) {
  std::filesystem::create_directories(dir_ + "/root/dir");
  WriteFile(dir_ + "/root/dir/secret", "inside-dir");
  ASSERT_EQ(symlink((dir_ + "/outside").c_str(), (dir_ + "/root/link").c_str()), 0);
  Start();
  auto root = Attach();
  ASSERT_TRUE(root.ok());
  std::atomic<bool> stop{false};
  const std::string d = dir_ + "/root/dir", l = dir_ + "/root/link";
  std::thread swapper([&] {
    while (!stop) renameat2(AT_FDCWD, d.c_str(), AT_FDCWD, l.c_str(), RENAME_EXCHANGE);
  });
  int inside = 0, stopped = 0;
  for (int i = 0; i < 3000; i++) {
    auto w = Walk(*root, {"dir", "secret"});
    if (!w.ok()) {
      stopped++;
      continue;
    }
    for (const auto& n : w->nodes()) {
      ASSERT_FALSE(IsOutsideSecret(dir_, n)) << "walk " << i << " escaped the root";
    }
    if (w->nodes_size() == 2) {
      auto fd = Open(w->nodes(1).fid(), O_RDONLY);
      if (fd.ok()) {
        ASSERT_EQ(ReadFd(fd->get()), "inside-dir");
        inside++;
      }
    } else {
      stopped++;
    }
    proto::Request c;
    for (const auto& n : w->nodes()) c.mutable_close()->add_fids(n.fid());
    ASSERT_TRUE(Call(c).ok());
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(inside + stopped, 3000);
  // Fids are released: the table does not grow with the loop.
  EXPECT_LT(server_->open_fids(), 10u);
}

}  // namespace
}  // namespace palisade::gofer
