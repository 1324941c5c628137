// Path resolution: symlinks, "..", mounts, trailing slashes, limits and
// permissions (path_resolution(7)), through the Task-free VFS core.
#include <string>

#include "tests/unit/vfs/vfs_test_util.h"

namespace palisade::testing {
namespace {

using PathWalkTest = VfsFixture;

TEST_F(PathWalkTest, AbsoluteRelativeAndDots) {
  ASSERT_TRUE(Mkdir("/a").ok());
  ASSERT_TRUE(Mkdir("/a/b").ok());
  EXPECT_EQ(Where("/a/b"), "/a/b");
  EXPECT_EQ(Where("a//b/."), "/a/b");
  EXPECT_EQ(Where("/a/b/../.."), "/");
  EXPECT_EQ(Where("/../../a"), "/a");  // ".." of "/" is "/"
  EXPECT_EQ(Where("/"), "/");
  EXPECT_EQ(Where("/nope"), "ENOENT");
  EXPECT_EQ(Where(""), "ENOENT");
}

TEST_F(PathWalkTest, DirfdAndCwd) {
  ASSERT_TRUE(Mkdir("/d").ok());
  ASSERT_TRUE(Touch("/d/f").ok());
  auto dir = vfs::OpenAt(ctx_, AT_FDCWD, "/d", O_RDONLY | O_DIRECTORY, 0);
  ASSERT_TRUE(dir.ok());
  int fd = *fds_.Add(*dir, false);
  auto n = vfs::ResolveNode(ctx_, fd, "f", {});
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(S_ISREG(n->attr.mode));
  EXPECT_EQ(vfs::ResolveNode(ctx_, 99, "f", {}).error(), Errno(EBADF));
  // Absolute paths ignore dirfd, even a bad one.
  EXPECT_TRUE(vfs::ResolveNode(ctx_, 99, "/d/f", {}).ok());
  auto file = vfs::OpenAt(ctx_, AT_FDCWD, "/d/f", O_RDONLY, 0);
  int ffd = *fds_.Add(*file, false);
  EXPECT_EQ(vfs::ResolveNode(ctx_, ffd, "x", {}).error(), Errno(ENOTDIR));
  // AT_EMPTY_PATH names the fd itself, whatever it is.
  auto self = vfs::ResolveNode(ctx_, ffd, "", {.allow_empty = true});
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(S_ISREG(self->attr.mode));
  ctx_.cwd = *vfs::Resolve(ctx_, AT_FDCWD, "/d", {});
  EXPECT_EQ(Where("f"), "/d/f");
  EXPECT_EQ(Where(".."), "/");
}

TEST_F(PathWalkTest, Symlinks) {
  ASSERT_TRUE(Mkdir("/a").ok());
  ASSERT_TRUE(Mkdir("/a/b").ok());
  ASSERT_TRUE(Touch("/a/b/f").ok());
  ASSERT_TRUE(Symlink("b/f", "/a/rel").ok());     // relative to the link's directory
  ASSERT_TRUE(Symlink("/a/b", "/abs").ok());      // absolute from the root
  ASSERT_TRUE(Symlink("../a/b/", "/a/up").ok());
  ASSERT_TRUE(Symlink("missing", "/dangling").ok());
  EXPECT_EQ(Where("/a/rel"), "/a/b/f");
  EXPECT_EQ(Where("/abs/f"), "/a/b/f");
  EXPECT_EQ(Where("/a/up/f"), "/a/b/f");
  EXPECT_EQ(Where("/a/rel", /*follow=*/false), "/a/rel");
  EXPECT_EQ(Where("/dangling"), "ENOENT");
  // A trailing slash forces following and requires a directory.
  EXPECT_EQ(Where("/abs/", false), "/a/b");
  EXPECT_EQ(Where("/a/rel/"), "ENOTDIR");
  EXPECT_EQ(Where("/a/b/f/"), "ENOTDIR");
}

TEST_F(PathWalkTest, SymlinkLoopsAndHopLimit) {
  ASSERT_TRUE(Symlink("l2", "/l1").ok());
  ASSERT_TRUE(Symlink("l1", "/l2").ok());
  EXPECT_EQ(Where("/l1"), "ELOOP");
  // A chain of 40 links resolves; 41 is one too many.
  ASSERT_TRUE(Touch("/target").ok());
  ASSERT_TRUE(Symlink("/target", "/c0").ok());
  for (int i = 1; i <= 40; i++) {
    ASSERT_TRUE(Symlink("/c" + std::to_string(i - 1), "/c" + std::to_string(i)).ok());
  }
  EXPECT_EQ(Where("/c39"), "/target");
  EXPECT_EQ(Where("/c40"), "ELOOP");
}

TEST_F(PathWalkTest, OpenNofollowAndOpath) {
  ASSERT_TRUE(Touch("/f").ok());
  ASSERT_TRUE(Symlink("f", "/l").ok());
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/l", O_RDONLY | O_NOFOLLOW, 0).error(), Errno(ELOOP));
  auto p = vfs::OpenAt(ctx_, AT_FDCWD, "/l", O_PATH | O_NOFOLLOW, 0);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(std::dynamic_pointer_cast<vfs::PathFile>(*p));
  EXPECT_TRUE(S_ISLNK(std::static_pointer_cast<vfs::PathFile>(*p)->inode()->GetAttr()->mode));
  EXPECT_TRUE(vfs::OpenAt(ctx_, AT_FDCWD, "/l", O_RDONLY, 0).ok());
  // O_NOFOLLOW only concerns the last component.
  ASSERT_TRUE(Mkdir("/d").ok());
  ASSERT_TRUE(Touch("/d/x").ok());
  ASSERT_TRUE(Symlink("d", "/ld").ok());
  EXPECT_TRUE(vfs::OpenAt(ctx_, AT_FDCWD, "/ld/x", O_RDONLY | O_NOFOLLOW, 0).ok());
}

TEST_F(PathWalkTest, NameLimits) {
  std::string long_name(256, 'x');
  EXPECT_EQ(Where("/" + long_name), "ENAMETOOLONG");
  EXPECT_EQ(Mkdir("/" + long_name), Errno(ENAMETOOLONG));
  EXPECT_TRUE(Mkdir("/" + std::string(255, 'y')).ok());
  std::string long_path;
  while (long_path.size() < 4096) long_path += "/.";
  EXPECT_EQ(Where(long_path), "ENAMETOOLONG");
}

TEST_F(PathWalkTest, SearchPermission) {
  ASSERT_TRUE(Mkdir("/closed", 0700).ok());
  ASSERT_TRUE(Touch("/closed/f").ok());
  ASSERT_TRUE(Mkdir("/open", 0755).ok());
  vfs::PathContext user = As(UserCreds());
  EXPECT_EQ(vfs::Resolve(user, AT_FDCWD, "/closed/f", {}).error(), Errno(EACCES));
  EXPECT_EQ(vfs::Resolve(user, AT_FDCWD, "/closed/../open", {}).error(), Errno(EACCES));
  EXPECT_TRUE(vfs::Resolve(user, AT_FDCWD, "/closed", {}).ok());  // the last name needs no x on itself
  EXPECT_TRUE(vfs::Resolve(ctx_, AT_FDCWD, "/closed/f", {}).ok());  // root overrides
  // Creating needs write permission on the directory.
  EXPECT_EQ(vfs::Mkdirat(user, AT_FDCWD, "/open/x", 0755), Errno(EACCES));
  EXPECT_EQ(vfs::OpenAt(user, AT_FDCWD, "/open/f", O_CREAT | O_WRONLY, 0644).error(), Errno(EACCES));
  // Opening checks the file's mode bits.
  ASSERT_TRUE(Touch("/open/secret", 0600).ok());
  EXPECT_EQ(vfs::OpenAt(user, AT_FDCWD, "/open/secret", O_RDONLY, 0).error(), Errno(EACCES));
  EXPECT_TRUE(vfs::OpenAt(user, AT_FDCWD, "/open/secret", O_PATH, 0).ok());
  EXPECT_EQ(vfs::Access(user, AT_FDCWD, "/open/secret", R_OK, 0), Errno(EACCES));
  EXPECT_TRUE(vfs::Access(user, AT_FDCWD, "/open/secret", F_OK, 0).ok());
}

TEST_F(PathWalkTest, MountCrossingAndDotDot) {
  ASSERT_TRUE(Mkdir("/mnt").ok());
  ASSERT_TRUE(Mkdir("/mnt/under").ok());  // hidden by the mount
  auto at = vfs::Resolve(ctx_, AT_FDCWD, "/mnt", {});
  ASSERT_TRUE(at.ok());
  auto m = ns_->AddMount(*at, tmpfs::NewTmpfsRoot(01777, 0, 0), "tmpfs", "tmpfs", 0);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(Mkdir("/mnt/inside").ok());
  EXPECT_EQ(Where("/mnt/under"), "ENOENT");
  auto in = Node("/mnt/inside");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->path.mount, *m);
  EXPECT_EQ(Where("/mnt/inside/.."), "/mnt");
  EXPECT_EQ(Where("/mnt/inside/../.."), "/");
  auto mnt = Node("/mnt");
  EXPECT_EQ(mnt->path.mount, *m);
  EXPECT_TRUE(S_ISDIR(mnt->attr.mode));
  EXPECT_EQ(mnt->attr.mode & 07777, 01777u);
  // A second mount stacked on the first: ".." climbs through both.
  auto m2 = ns_->AddMount(*vfs::Resolve(ctx_, AT_FDCWD, "/mnt", {}), tmpfs::NewTmpfsRoot(0700, 0, 0), "tmpfs",
                          "tmpfs", 0);
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(Where("/mnt/inside"), "ENOENT");
  EXPECT_EQ(Node("/mnt")->path.mount, *m2);
  EXPECT_EQ(Where("/mnt/.."), "/");
  // Mount points cannot be removed or renamed; cross-mount links fail.
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/mnt", AT_REMOVEDIR), Errno(EBUSY));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/mnt", AT_FDCWD, "/mnt2", 0), Errno(EBUSY));
  ASSERT_TRUE(Touch("/f").ok());
  EXPECT_EQ(vfs::Linkat(ctx_, AT_FDCWD, "/f", AT_FDCWD, "/mnt/f", 0), Errno(EXDEV));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/f", AT_FDCWD, "/mnt/f", 0), Errno(EXDEV));
  // Unmount: EBUSY while another mount sits on top, then in order.
  EXPECT_EQ(ns_->Unmount(VirtualPath{*m, (*m)->root()}), Errno(EBUSY));
  EXPECT_TRUE(ns_->Unmount(VirtualPath{*m2, (*m2)->root()}).ok());
  EXPECT_TRUE(ns_->Unmount(VirtualPath{*m, (*m)->root()}).ok());
  EXPECT_EQ(Where("/mnt/under"), "/mnt/under");
}

TEST_F(PathWalkTest, ReadOnlyMount) {
  ASSERT_TRUE(Mkdir("/ro").ok());
  auto rot = tmpfs::NewTmpfsRoot(0755, 0, 0);
  ASSERT_TRUE(rot->Mkdir("sub", S_IFDIR | 0755, RootCreds()).ok());
  ASSERT_TRUE(rot->Create("file", S_IFREG | 0644, RootCreds()).ok());
  ASSERT_TRUE(ns_->AddMount(*vfs::Resolve(ctx_, AT_FDCWD, "/ro", {}), rot, "tmpfs", "tmpfs", 1 /* MS_RDONLY */).ok());
  EXPECT_EQ(Mkdir("/ro/x"), Errno(EROFS));
  EXPECT_EQ(Mkdir("/ro/sub"), Errno(EEXIST));  // EEXIST wins over EROFS
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/ro/file", O_WRONLY, 0).error(), Errno(EROFS));
  EXPECT_TRUE(vfs::OpenAt(ctx_, AT_FDCWD, "/ro/file", O_RDONLY, 0).ok());
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/ro/file", 0), Errno(EROFS));
  EXPECT_EQ(vfs::Access(ctx_, AT_FDCWD, "/ro/file", W_OK, 0), Errno(EROFS));
  EXPECT_EQ(vfs::Chmod(ctx_, *vfs::Resolve(ctx_, AT_FDCWD, "/ro/file", {}), 0600), Errno(EROFS));
}

TEST_F(PathWalkTest, ChrootedRootIsTheCeiling) {
  ASSERT_TRUE(Mkdir("/jail").ok());
  ASSERT_TRUE(Mkdir("/jail/etc").ok());
  ASSERT_TRUE(Touch("/secret").ok());
  ASSERT_TRUE(Symlink("/etc", "/jail/abs").ok());
  ASSERT_TRUE(Symlink("../../../secret", "/jail/rel").ok());
  ctx_.root = *vfs::Resolve(ctx_, AT_FDCWD, "/jail", {});
  ctx_.cwd = ctx_.root;
  EXPECT_EQ(Where("/.."), "/");
  EXPECT_EQ(Where("../../secret"), "ENOENT");
  EXPECT_EQ(Where("/abs"), "/etc");  // absolute links restart at the task's root
  EXPECT_EQ(Where("/rel"), "ENOENT");
}

TEST_F(PathWalkTest, OpenCreateSemantics) {
  ASSERT_TRUE(Mkdir("/d").ok());
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/d", O_CREAT | O_RDONLY, 0644).error(), Errno(EISDIR));
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/new/", O_CREAT | O_RDWR, 0644).error(), Errno(EISDIR));
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/x", O_CREAT | O_DIRECTORY | O_RDWR, 0644).error(), Errno(EINVAL));
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/d", O_WRONLY, 0).error(), Errno(EISDIR));
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/d", O_RDONLY | O_TRUNC, 0).error(), Errno(EISDIR));
  ASSERT_TRUE(Touch("/f", 07777).ok());
  EXPECT_EQ(Node("/f")->attr.mode, S_IFREG | (07777 & ~022u));  // umask applies
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/f", O_CREAT | O_EXCL | O_RDWR, 0644).error(), Errno(EEXIST));
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/f", O_RDONLY | O_DIRECTORY, 0).error(), Errno(ENOTDIR));
  // O_CREAT through a dangling symlink creates the target; O_EXCL refuses.
  ASSERT_TRUE(Symlink("made", "/dl").ok());
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/dl", O_CREAT | O_EXCL | O_RDWR, 0644).error(), Errno(EEXIST));
  EXPECT_TRUE(vfs::OpenAt(ctx_, AT_FDCWD, "/dl", O_CREAT | O_RDWR, 0644).ok());
  EXPECT_EQ(Where("/made"), "/made");
  // New files belong to the fsuid/fsgid; a 0444 file we create is writable by us.
  ctx_.umask = 0;
  ASSERT_TRUE(Mkdir("/pub", 0777).ok());
  vfs::PathContext user = As(UserCreds(1000, 1000));
  EXPECT_TRUE(vfs::OpenAt(user, AT_FDCWD, "/pub/mine", O_CREAT | O_WRONLY, 0444).ok());
  auto mine = Node("/pub/mine");
  EXPECT_EQ(mine->attr.uid, 1000u);
  EXPECT_EQ(mine->attr.gid, 1000u);
  // O_TRUNC empties the file.
  WriteFile("/f", "hello");
  EXPECT_EQ(ReadFile("/f"), "hello");
  EXPECT_TRUE(vfs::OpenAt(ctx_, AT_FDCWD, "/f", O_WRONLY | O_TRUNC, 0).ok());
  EXPECT_EQ(Node("/f")->attr.size, 0);
}

TEST_F(PathWalkTest, FlagsKeptByTheDescription) {
  ASSERT_TRUE(Touch("/f").ok());
  auto f = vfs::OpenAt(ctx_, AT_FDCWD, "/f", O_RDWR | O_APPEND | O_CLOEXEC | O_TRUNC, 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->flags(), O_RDWR | O_APPEND | O_LARGEFILE);
  EXPECT_EQ((*f)->DisplayName(), "/f");
}

}  // namespace
}  // namespace palisade::testing
