// tmpfs semantics through the VFS: creation, link counts, unlink, rename
// (all flag combinations), getdents cursors, sparse files, timestamps.
#include <dirent.h>
#include <linux/falloc.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <set>
#include <string>

#include "sentry/fsimpl/tmpfs/tmpfs_inode.h"
#include "tests/unit/vfs/vfs_test_util.h"

namespace palisade::testing {
namespace {

using TmpfsTest = VfsFixture;

bool Before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

TEST_F(TmpfsTest, CreateLookupUnlink) {
  ASSERT_TRUE(Touch("/f").ok());
  EXPECT_EQ(Nlink("/f"), 1u);
  EXPECT_EQ(Mkdir("/f"), Errno(EEXIST));
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/f/", 0), Errno(ENOTDIR));
  EXPECT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/f", 0).ok());
  EXPECT_EQ(Where("/f"), "ENOENT");
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/f", 0), Errno(ENOENT));
  ASSERT_TRUE(Mkdir("/d").ok());
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/d", 0), Errno(EISDIR));
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/", 0), Errno(EISDIR));
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/d/.", AT_REMOVEDIR), Errno(EINVAL));
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/d/..", AT_REMOVEDIR), Errno(ENOTEMPTY));
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/", AT_REMOVEDIR), Errno(EBUSY));
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/d", 0x1), Errno(EINVAL));
  EXPECT_EQ(Mkdir("/"), Errno(EEXIST));
  EXPECT_EQ(Mkdir("/d/."), Errno(EEXIST));
}

TEST_F(TmpfsTest, LinkCounts) {
  ASSERT_TRUE(Mkdir("/d").ok());
  EXPECT_EQ(Nlink("/"), 3u);
  EXPECT_EQ(Nlink("/d"), 2u);
  ASSERT_TRUE(Mkdir("/d/e").ok());
  EXPECT_EQ(Nlink("/d"), 3u);
  ASSERT_TRUE(Touch("/d/f").ok());
  EXPECT_EQ(Nlink("/d"), 3u);  // files do not count
  ASSERT_TRUE(vfs::Linkat(ctx_, AT_FDCWD, "/d/f", AT_FDCWD, "/g", 0).ok());
  EXPECT_EQ(Nlink("/g"), 2u);
  EXPECT_EQ(Node("/g")->attr.ino, Node("/d/f")->attr.ino);
  EXPECT_EQ(vfs::Linkat(ctx_, AT_FDCWD, "/d", AT_FDCWD, "/dl", 0), Errno(EPERM));
  EXPECT_EQ(vfs::Linkat(ctx_, AT_FDCWD, "/d/f", AT_FDCWD, "/g", 0), Errno(EEXIST));
  EXPECT_EQ(vfs::Linkat(ctx_, AT_FDCWD, "/d/f", AT_FDCWD, "/h/", 0), Errno(ENOENT));
  // AT_SYMLINK_FOLLOW links the target, not the link.
  ASSERT_TRUE(Symlink("/g", "/s").ok());
  ASSERT_TRUE(vfs::Linkat(ctx_, AT_FDCWD, "/s", AT_FDCWD, "/s2", 0).ok());
  EXPECT_TRUE(S_ISLNK(Node("/s2", false)->attr.mode));
  ASSERT_TRUE(vfs::Linkat(ctx_, AT_FDCWD, "/s", AT_FDCWD, "/s3", AT_SYMLINK_FOLLOW).ok());
  EXPECT_TRUE(S_ISREG(Node("/s3", false)->attr.mode));
  EXPECT_EQ(Nlink("/g"), 3u);
  ASSERT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/d/f", 0).ok());
  EXPECT_EQ(Nlink("/g"), 2u);
  // rmdir: non-empty, then empty.
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/d", AT_REMOVEDIR), Errno(ENOTEMPTY));
  auto held = Node("/d/e");
  ASSERT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/d/e", AT_REMOVEDIR).ok());
  EXPECT_EQ(held->path.dentry->inode()->GetAttr()->nlink, 0u);
  EXPECT_EQ(Nlink("/d"), 2u);
  // Nothing can be created in a removed directory.
  EXPECT_EQ(held->path.dentry->inode()->Mkdir("x", S_IFDIR | 0755, RootCreds()).error(), Errno(ENOENT));
  ASSERT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/d", AT_REMOVEDIR).ok());
  EXPECT_EQ(Nlink("/"), 2u);
}

TEST_F(TmpfsTest, DirectorySizeAndTimes) {
  ASSERT_TRUE(Mkdir("/d").ok());
  EXPECT_EQ(Node("/d")->attr.size, 40);
  timespec before = Node("/d")->attr.mtime;
  usleep(2000);
  ASSERT_TRUE(Touch("/d/f").ok());
  auto d = Node("/d");
  EXPECT_EQ(d->attr.size, 60);
  EXPECT_TRUE(Before(before, d->attr.mtime));
  EXPECT_EQ(d->attr.mtime.tv_nsec, d->attr.ctime.tv_nsec);
  timespec fctime = Node("/d/f")->attr.ctime;
  usleep(2000);
  ASSERT_TRUE(vfs::Linkat(ctx_, AT_FDCWD, "/d/f", AT_FDCWD, "/d/g", 0).ok());
  EXPECT_TRUE(Before(fctime, Node("/d/f")->attr.ctime));  // link count change is a status change
  // chmod/chown/utimens
  auto f = *vfs::Resolve(ctx_, AT_FDCWD, "/d/f", {});
  ASSERT_TRUE(vfs::Chmod(ctx_, f, 04755).ok());
  EXPECT_EQ(Node("/d/f")->attr.mode & 07777, 04755u);
  ASSERT_TRUE(vfs::Chown(ctx_, f, 5, 6).ok());
  EXPECT_EQ(Node("/d/f")->attr.uid, 5u);
  EXPECT_EQ(Node("/d/f")->attr.mode & 07777, 0755u);  // chown drops setuid
  timespec times[2] = {{100, 5}, {200, UTIME_OMIT}};
  timespec old_m = Node("/d/f")->attr.mtime;
  ASSERT_TRUE(vfs::Utimens(ctx_, f, times).ok());
  EXPECT_EQ(Node("/d/f")->attr.atime.tv_sec, 100);
  EXPECT_EQ(Node("/d/f")->attr.mtime.tv_sec, old_m.tv_sec);
  // Non-owners: EPERM for explicit times and chmod, EACCES to touch without write.
  vfs::PathContext user = As(UserCreds());
  EXPECT_EQ(vfs::Utimens(user, f, times), Errno(EPERM));
  EXPECT_EQ(vfs::Utimens(user, f, nullptr), Errno(EACCES));
  EXPECT_EQ(vfs::Chmod(user, f, 0777), Errno(EPERM));
  EXPECT_EQ(vfs::Chown(user, f, 1000, -1), Errno(EPERM));
}

TEST_F(TmpfsTest, RenameBasics) {
  ASSERT_TRUE(Touch("/a").ok());
  ASSERT_TRUE(Touch("/b").ok());
  uint64_t ino_a = Node("/a")->attr.ino;
  ASSERT_TRUE(vfs::Renameat(ctx_, AT_FDCWD, "/a", AT_FDCWD, "/b", 0).ok());  // replaces b
  EXPECT_EQ(Where("/a"), "ENOENT");
  EXPECT_EQ(Node("/b")->attr.ino, ino_a);
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/a", AT_FDCWD, "/c", 0), Errno(ENOENT));
  ASSERT_TRUE(Touch("/c").ok());
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/b", AT_FDCWD, "/c", RENAME_NOREPLACE), Errno(EEXIST));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/b", AT_FDCWD, "/c", RENAME_NOREPLACE | RENAME_EXCHANGE),
            Errno(EINVAL));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/b", AT_FDCWD, "/c/", 0), Errno(ENOTDIR));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/.", AT_FDCWD, "/x", 0), Errno(EBUSY));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/b", AT_FDCWD, "/", 0), Errno(EBUSY));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/b", AT_FDCWD, "/.", RENAME_NOREPLACE), Errno(EEXIST));
  // Hard links to one inode: rename is a no-op success.
  ASSERT_TRUE(vfs::Linkat(ctx_, AT_FDCWD, "/b", AT_FDCWD, "/b2", 0).ok());
  ASSERT_TRUE(vfs::Renameat(ctx_, AT_FDCWD, "/b", AT_FDCWD, "/b2", 0).ok());
  EXPECT_EQ(Where("/b"), "/b");
  EXPECT_EQ(Nlink("/b"), 2u);
}

TEST_F(TmpfsTest, RenameDirectories) {
  ASSERT_TRUE(Mkdir("/d1").ok());
  ASSERT_TRUE(Mkdir("/d1/sub").ok());
  ASSERT_TRUE(Mkdir("/d2").ok());
  ASSERT_TRUE(Mkdir("/empty").ok());
  ASSERT_TRUE(Touch("/file").ok());
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/d1", AT_FDCWD, "/d1/sub/x", 0), Errno(EINVAL));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/d1", AT_FDCWD, "/d1/x", 0), Errno(EINVAL));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/d1/sub", AT_FDCWD, "/d1", 0), Errno(ENOTEMPTY));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/d1", AT_FDCWD, "/file", 0), Errno(ENOTDIR));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/file", AT_FDCWD, "/empty", 0), Errno(EISDIR));
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/d2", AT_FDCWD, "/d1", 0), Errno(ENOTEMPTY));
  // An empty directory is replaced; link counts move with ".."
  EXPECT_EQ(Nlink("/"), 5u);
  ASSERT_TRUE(vfs::Renameat(ctx_, AT_FDCWD, "/d1/sub", AT_FDCWD, "/d2/sub", 0).ok());
  EXPECT_EQ(Nlink("/d1"), 2u);
  EXPECT_EQ(Nlink("/d2"), 3u);
  ASSERT_TRUE(vfs::Renameat(ctx_, AT_FDCWD, "/d1", AT_FDCWD, "/empty/", 0).ok());
  EXPECT_EQ(Nlink("/"), 4u);
  EXPECT_EQ(Where("/d1"), "ENOENT");
  // RENAME_EXCHANGE swaps, including a file with a directory.
  uint64_t fino = Node("/file")->attr.ino, dino = Node("/d2")->attr.ino;
  ASSERT_TRUE(vfs::Renameat(ctx_, AT_FDCWD, "/file", AT_FDCWD, "/d2", RENAME_EXCHANGE).ok());
  EXPECT_EQ(Node("/file")->attr.ino, dino);
  EXPECT_EQ(Node("/d2")->attr.ino, fino);
  EXPECT_EQ(Where("/file/sub"), "/file/sub");
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/file", AT_FDCWD, "/nope", RENAME_EXCHANGE), Errno(ENOENT));
  // Exchange across directories moves the ".." links.
  ASSERT_TRUE(Touch("/file/sub/leaf").ok());
  ASSERT_TRUE(vfs::Renameat(ctx_, AT_FDCWD, "/file/sub", AT_FDCWD, "/d2", RENAME_EXCHANGE).ok());
  EXPECT_EQ(Nlink("/file"), 2u);
  EXPECT_TRUE(S_ISREG(Node("/file/sub")->attr.mode));
  EXPECT_EQ(Where("/d2/leaf"), "/d2/leaf");
  EXPECT_EQ(vfs::Renameat(ctx_, AT_FDCWD, "/file", AT_FDCWD, "/x", RENAME_WHITEOUT), Errno(EINVAL));
}

TEST_F(TmpfsTest, StickyDirectory) {
  ctx_.umask = 0;
  ASSERT_TRUE(Mkdir("/tmp", 01777).ok());
  vfs::PathContext alice = As(UserCreds(1001, 1001)), bob = As(UserCreds(1002, 1002));
  ASSERT_TRUE(vfs::OpenAt(alice, AT_FDCWD, "/tmp/a", O_CREAT | O_WRONLY, 0666).ok());
  EXPECT_EQ(vfs::Unlinkat(bob, AT_FDCWD, "/tmp/a", 0), Errno(EPERM));
  EXPECT_EQ(vfs::Renameat(bob, AT_FDCWD, "/tmp/a", AT_FDCWD, "/tmp/b", 0), Errno(EPERM));
  EXPECT_TRUE(vfs::Unlinkat(alice, AT_FDCWD, "/tmp/a", 0).ok());
}

TEST_F(TmpfsTest, ReaddirCursor) {
  ASSERT_TRUE(Mkdir("/d").ok());
  for (int i = 0; i < 10; i++) ASSERT_TRUE(Touch("/d/f" + std::to_string(i)).ok());
  auto f = vfs::OpenAt(ctx_, AT_FDCWD, "/d", O_RDONLY | O_DIRECTORY, 0);
  ASSERT_TRUE(f.ok());
  auto dir = std::dynamic_pointer_cast<vfs::DirectoryFile>(*f);
  ASSERT_TRUE(dir);
  std::vector<std::string> seen;
  auto first = dir->ReadEntries(3);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].name, ".");
  EXPECT_EQ((*first)[1].name, "..");
  EXPECT_EQ((*first)[1].ino, Node("/")->attr.ino);
  EXPECT_EQ((*first)[0].type, DT_DIR);
  for (auto& e : *first) seen.push_back(e.name);
  // Changes between calls: removing entries already returned or not yet
  // returned, adding new ones, must not make the cursor repeat or skip.
  ASSERT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/d/f0", 0).ok());
  ASSERT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/d/f5", 0).ok());
  ASSERT_TRUE(Touch("/d/new").ok());
  for (;;) {
    auto more = dir->ReadEntries(2);
    ASSERT_TRUE(more.ok());
    if (more->empty()) break;
    for (auto& e : *more) {
      seen.push_back(e.name);
      EXPECT_EQ(e.type, DT_REG);
    }
  }
  std::multiset<std::string> got(seen.begin(), seen.end());
  std::multiset<std::string> want{".", "..", "f0", "f1", "f2", "f3", "f4", "f6", "f7", "f8", "f9", "new"};
  EXPECT_EQ(got, want);
  // d_off resumes: seek back to the offset after the third entry.
  ASSERT_TRUE(dir->SeekTo(0, SEEK_SET).ok());
  auto all = dir->ReadEntries(100);
  ASSERT_TRUE(all.ok());
  ASSERT_GE(all->size(), 5u);
  ASSERT_TRUE(dir->SeekTo((*all)[2].off, SEEK_SET).ok());
  auto resumed = dir->ReadEntries(1);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ((*resumed)[0].name, (*all)[3].name);
  EXPECT_EQ(dir->SeekTo(0, SEEK_END).error(), Errno(EINVAL));
}

TEST_F(TmpfsTest, SparseFilesAndSeek) {
  auto root = tmpfs::NewTmpfsRoot(0755, 0, 0);
  auto made = root->Create("f", S_IFREG | 0644, RootCreds());
  ASSERT_TRUE(made.ok());
  auto reg = std::dynamic_pointer_cast<tmpfs::RegularInode>(*made);
  ASSERT_TRUE(reg);
  std::string data = "data";
  int64_t end = 0;
  auto w = reg->WriteAt({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, 3 * 4096 + 10, false, &end);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(end, 3 * 4096 + 14);
  EXPECT_EQ(reg->Size(), 3 * 4096 + 14);
  EXPECT_EQ(reg->GetAttr()->blocks, 8);  // one page allocated
  std::vector<uint8_t> buf(8, 0xff);
  ASSERT_EQ(*reg->ReadAt(buf, 100, false), 8);
  EXPECT_EQ(buf, std::vector<uint8_t>(8, 0));  // holes read as zeros
  EXPECT_EQ(*reg->SeekDataOrHole(0, false), 3 * 4096);
  EXPECT_EQ(*reg->SeekDataOrHole(0, true), 0);
  EXPECT_EQ(*reg->SeekDataOrHole(3 * 4096 + 1, true), 3 * 4096 + 14);
  EXPECT_EQ(reg->SeekDataOrHole(3 * 4096 + 14, false).error(), Errno(ENXIO));
  // O_APPEND writes at the end, whatever the offset.
  ASSERT_TRUE(reg->WriteAt({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, 0, true, &end).ok());
  EXPECT_EQ(end, 3 * 4096 + 18);
  // Truncation zeroes what it cuts off, so growing again reads zeros.
  SetAttrRequest r;
  r.mask = SetAttrRequest::kSize;
  r.size = 3 * 4096 + 11;
  ASSERT_TRUE(reg->SetAttr(r).ok());
  r.size = 3 * 4096 + 20;
  ASSERT_TRUE(reg->SetAttr(r).ok());
  std::vector<uint8_t> tail(10);
  ASSERT_EQ(*reg->ReadAt(tail, 3 * 4096 + 10, false), 10);
  EXPECT_EQ(tail[0], 'd');
  EXPECT_EQ(tail[1], 0);
  // fallocate: mode 0 grows, KEEP_SIZE does not, PUNCH_HOLE zeroes.
  ASSERT_TRUE(reg->Allocate(0, 0, 5 * 4096).ok());
  EXPECT_EQ(reg->Size(), 5 * 4096);
  ASSERT_TRUE(reg->Allocate(FALLOC_FL_KEEP_SIZE, 0, 9 * 4096).ok());
  EXPECT_EQ(reg->Size(), 5 * 4096);
  ASSERT_TRUE(reg->Allocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * 4096 + 10, 1).ok());
  ASSERT_EQ(*reg->ReadAt(tail, 3 * 4096 + 10, false), 10);
  EXPECT_EQ(tail[0], 0);
  EXPECT_EQ(reg->Allocate(FALLOC_FL_PUNCH_HOLE, 0, 1), Errno(EOPNOTSUPP));
}

TEST_F(TmpfsTest, SpecialNodes) {
  EXPECT_TRUE(vfs::Mknodat(ctx_, AT_FDCWD, "/fifo", S_IFIFO | 0644, 0).ok());
  EXPECT_TRUE(S_ISFIFO(Node("/fifo")->attr.mode));
  // FIFOs open through the pipe filesystem (fifo(7)): a writer without a
  // reader gets ENXIO; with one, both ends share a pipe.
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/fifo", O_WRONLY | O_NONBLOCK, 0).error(), Errno(ENXIO));
  auto rd = vfs::OpenAt(ctx_, AT_FDCWD, "/fifo", O_RDONLY | O_NONBLOCK, 0);
  ASSERT_TRUE(rd.ok());
  EXPECT_TRUE(vfs::OpenAt(ctx_, AT_FDCWD, "/fifo", O_WRONLY | O_NONBLOCK, 0).ok());
  EXPECT_EQ(vfs::PathString(vfs::PathOf(**rd), ctx_.root), "/fifo");
  EXPECT_TRUE(vfs::Mknodat(ctx_, AT_FDCWD, "/sock", S_IFSOCK | 0644, 0).ok());
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/sock", O_RDONLY, 0).error(), Errno(ENXIO));
  EXPECT_TRUE(vfs::Mknodat(ctx_, AT_FDCWD, "/reg", 0644, 0).ok());
  EXPECT_TRUE(S_ISREG(Node("/reg")->attr.mode));
  EXPECT_EQ(vfs::Mknodat(ctx_, AT_FDCWD, "/dir", S_IFDIR | 0755, 0), Errno(EPERM));
  EXPECT_EQ(vfs::Mknodat(ctx_, AT_FDCWD, "/bad", 0170000 | 0755, 0), Errno(EINVAL));
  EXPECT_TRUE(vfs::Mknodat(ctx_, AT_FDCWD, "/null", S_IFCHR | 0666, makedev(1, 3)).ok());
  EXPECT_EQ(Node("/null")->attr.rdev, makedev(1, 3));
  ctx_.umask = 0;
  ASSERT_TRUE(Mkdir("/pub", 0777).ok());
  EXPECT_EQ(vfs::Mknodat(As(UserCreds()), AT_FDCWD, "/pub/c", S_IFCHR | 0666, 0), Errno(EPERM));
  EXPECT_EQ(vfs::Symlinkat(ctx_, "", AT_FDCWD, "/empty"), Errno(ENOENT));
  ASSERT_TRUE(Symlink("some/where", "/lnk").ok());
  EXPECT_EQ(*vfs::ReadLinkAt(ctx_, AT_FDCWD, "/lnk"), "some/where");
  EXPECT_EQ(Node("/lnk", false)->attr.size, 10);
  EXPECT_EQ(vfs::ReadLinkAt(ctx_, AT_FDCWD, "/reg").error(), Errno(EINVAL));
}

TEST_F(TmpfsTest, SetgidDirectoryInheritance) {
  ASSERT_TRUE(Mkdir("/g", 02777).ok());
  auto g = *vfs::Resolve(ctx_, AT_FDCWD, "/g", {});
  ASSERT_TRUE(vfs::Chown(ctx_, g, 0, 50).ok());
  ASSERT_TRUE(vfs::Chmod(ctx_, g, 02777).ok());
  vfs::PathContext user = As(UserCreds());
  ASSERT_TRUE(vfs::Mkdirat(user, AT_FDCWD, "/g/sub", 0755).ok());
  ASSERT_TRUE(vfs::OpenAt(user, AT_FDCWD, "/g/f", O_CREAT | O_WRONLY, 0644).ok());
  EXPECT_EQ(Node("/g/sub")->attr.gid, 50u);
  EXPECT_EQ(Node("/g/sub")->attr.mode & S_ISGID, static_cast<uint32_t>(S_ISGID));
  EXPECT_EQ(Node("/g/f")->attr.gid, 50u);
}

TEST_F(TmpfsTest, TruncateAndStatfs) {
  ASSERT_TRUE(Touch("/f").ok());
  WriteFile("/f", "0123456789");
  auto f = *vfs::Resolve(ctx_, AT_FDCWD, "/f", {});
  ASSERT_TRUE(vfs::TruncatePath(ctx_, f, 4).ok());
  EXPECT_EQ(ReadFile("/f"), "0123");
  EXPECT_EQ(vfs::TruncatePath(ctx_, *vfs::Resolve(ctx_, AT_FDCWD, "/", {}), 0), Errno(EISDIR));
  EXPECT_EQ(vfs::TruncatePath(As(UserCreds()), f, 0), Errno(EACCES));
  auto s = vfs::StatFsOf(f);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->f_type, 0x01021994);  // TMPFS_MAGIC
  EXPECT_GT(s->f_blocks, 0u);
}

}  // namespace
}  // namespace palisade::testing
