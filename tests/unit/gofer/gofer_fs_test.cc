// The gofer client filesystem end to end: the sentry VFS walking a rootfs
// served by a real gofer server (on a socketpair, against a temp dir)
// never reaches a host file outside it, whatever its symlinks say, and
// changes made through the VFS land in the tree.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "gofer/proto/framing.h"
#include "gofer/server/server.h"
#include "sentry/fsimpl/gofer/gofer_fs.h"
#include "tests/unit/vfs/vfs_test_util.h"

namespace palisade::testing {
namespace {

void WriteHost(const std::string& path, const std::string& data) { std::ofstream(path) << data; }

class GoferFsTest : public VfsFixture {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/palisade-goferfs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    top_ = tmpl;
    rootfs_ = top_ + "/rootfs";
    // Outside the rootfs, next to it: what an escape would reach.
    WriteHost(top_ + "/outside_secret", "host secret");
    ASSERT_EQ(mkdir(rootfs_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((rootfs_ + "/etc").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((rootfs_ + "/deep").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((rootfs_ + "/deep/er").c_str(), 0755), 0);
    WriteHost(rootfs_ + "/etc/passwd", "sandbox passwd");
    ASSERT_EQ(symlink("/", (rootfs_ + "/slash").c_str()), 0);
    ASSERT_EQ(symlink("../../..", (rootfs_ + "/up").c_str()), 0);
    ASSERT_EQ(symlink("../../../../../etc", (rootfs_ + "/deep/er/esc").c_str()), 0);
    ASSERT_EQ(symlink(top_.c_str(), (rootfs_ + "/hostabs").c_str()), 0);
    ASSERT_EQ(symlink("/proc/self/root", (rootfs_ + "/procroot").c_str()), 0);
    StartServer();
    auto root = gofer::NewGoferRoot(client_, "/", /*readonly=*/false);
    ASSERT_TRUE(root.ok()) << root.status();
    UseRoot(*root);
  }
  void TearDown() override {
    UseRoot(tmpfs::NewTmpfsRoot(0755, 0, 0));  // drop gofer inodes first
    client_.reset();
    if (thread_.joinable()) {
      shutdown(server_sock_, SHUT_RDWR);
      thread_.join();
    }
    (void)system(("rm -rf '" + top_ + "'").c_str());
  }
  void StartServer() {
    auto pair = gofer::NewSocketPair();
    ASSERT_TRUE(pair.ok());
    UniqueFd root(open(rootfs_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd proc(open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto server = gofer::Server::New(std::move(root), std::move(proc));
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    server_sock_ = pair->second.get();
    client_ = std::make_shared<gofer::Client>(std::move(pair->first));
    thread_ = std::thread([s = server_.get(), fd = std::make_shared<UniqueFd>(std::move(pair->second))] {
      (void)s->Serve(fd->get());
    });
  }

  // The host path (among the candidates) of the file a sandbox path
  // resolves to, or the errno name.
  std::string HostOf(std::string_view path) {
    auto n = Node(path);
    if (!n.ok()) return n.error().Name();
    for (const std::string& c : {rootfs_, rootfs_ + "/etc/passwd", rootfs_ + "/etc", top_,
                                 top_ + "/outside_secret", std::string("/")}) {
      struct stat st;
      if (stat(c.c_str(), &st) == 0 && st.st_ino == n->attr.ino && st.st_dev == n->attr.dev) return c;
    }
    return "elsewhere";
  }

  std::string top_, rootfs_;
  std::unique_ptr<gofer::Server> server_;
  std::shared_ptr<gofer::Client> client_;
  int server_sock_ = -1;
  std::thread thread_;
};

TEST_F(GoferFsTest, SymlinksStayInside) {
  EXPECT_EQ(HostOf("/etc/passwd"), rootfs_ + "/etc/passwd");
  EXPECT_EQ(HostOf("/slash"), rootfs_);
  EXPECT_EQ(HostOf("/slash/etc/passwd"), rootfs_ + "/etc/passwd");
  EXPECT_EQ(HostOf("/up"), rootfs_);
  EXPECT_EQ(HostOf("/up/outside_secret"), "ENOENT");
  EXPECT_EQ(HostOf("/up/etc/passwd"), rootfs_ + "/etc/passwd");
  EXPECT_EQ(HostOf("/deep/er/esc/passwd"), rootfs_ + "/etc/passwd");
  EXPECT_EQ(HostOf("/../../../outside_secret"), "ENOENT");
  EXPECT_EQ(HostOf("/deep/../../.."), rootfs_);
  // An absolute host path in a link is a sandbox path.
  EXPECT_EQ(HostOf("/hostabs"), "ENOENT");
  EXPECT_EQ(HostOf("/procroot"), "ENOENT");
  EXPECT_EQ(ReadFile("/up/etc/passwd"), "sandbox passwd");
  auto l = Node("/up", /*follow=*/false);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(S_ISLNK(l->attr.mode));
  EXPECT_EQ(*vfs::ReadLinkAt(ctx_, AT_FDCWD, "/up"), "../../..");
}

TEST_F(GoferFsTest, ComponentsAreSingleNames) {
  auto root = Node("/");
  ASSERT_TRUE(root.ok());
  const InodeRef& r = root->path.dentry->inode();
  EXPECT_EQ(r->Lookup("..").error(), Errno(ENOENT));
  EXPECT_EQ(r->Lookup(".").error(), Errno(ENOENT));
  EXPECT_EQ(r->Lookup("etc/passwd").error(), Errno(EINVAL));
  EXPECT_EQ(r->Lookup("").error(), Errno(ENOENT));
  auto list = r->ReadDir();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 6u);  // etc deep slash up hostabs procroot
}

TEST_F(GoferFsTest, MutationsLandInTheTree) {
  ASSERT_TRUE(Mkdir("/newdir", 0750).ok());
  struct stat st;
  ASSERT_EQ(stat((rootfs_ + "/newdir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u & ~022u);  // sandbox umask, not the host's
  ASSERT_TRUE(Touch("/newdir/f", 0666).ok());
  ASSERT_EQ(stat((rootfs_ + "/newdir/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  WriteFile("/newdir/f", "hello");
  EXPECT_EQ(ReadFile("/newdir/f"), "hello");
  ASSERT_TRUE(vfs::Renameat(ctx_, AT_FDCWD, "/newdir/f", AT_FDCWD, "/etc/g", 0).ok());
  EXPECT_EQ(ReadFile("/etc/g"), "hello");
  ASSERT_TRUE(vfs::Linkat(ctx_, AT_FDCWD, "/etc/g", AT_FDCWD, "/etc/h", 0).ok());
  EXPECT_EQ(Nlink("/etc/g"), 2u);
  ASSERT_TRUE(Symlink("/etc/g", "/lnk").ok());
  char buf[64];
  ssize_t n = readlink((rootfs_ + "/lnk").c_str(), buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "/etc/g");  // stored verbatim
  EXPECT_EQ(ReadFile("/lnk"), "hello");
  auto g = *vfs::Resolve(ctx_, AT_FDCWD, "/etc/g", {});
  ASSERT_TRUE(vfs::Chmod(ctx_, g, 0600).ok());
  ASSERT_EQ(stat((rootfs_ + "/etc/g").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_TRUE(vfs::TruncatePath(ctx_, g, 2).ok());
  EXPECT_EQ(ReadFile("/etc/g"), "he");
  timespec times[2] = {{1000, 0}, {2000, 0}};
  ASSERT_TRUE(vfs::Utimens(ctx_, g, times).ok());
  EXPECT_EQ(Node("/etc/g")->attr.mtime.tv_sec, 2000);
  EXPECT_EQ(vfs::Unlinkat(ctx_, AT_FDCWD, "/newdir", 0), Errno(EISDIR));
  EXPECT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/newdir", AT_REMOVEDIR).ok());
  EXPECT_TRUE(vfs::Unlinkat(ctx_, AT_FDCWD, "/etc/h", 0).ok());
  EXPECT_EQ(Nlink("/etc/g"), 1u);
  auto list = Node("/etc")->path.dentry->inode()->ReadDir();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);  // passwd, g
  ASSERT_EQ(stat((rootfs_ + "/etc/passwd").c_str(), &st), 0);
  auto p = Node("/etc/passwd");
  EXPECT_EQ(p->attr.ino, st.st_ino);
  EXPECT_EQ(p->attr.dev, st.st_dev);
  EXPECT_TRUE(vfs::StatFsOf(p->path).ok());
}

TEST_F(GoferFsTest, SpecialFilesAreNotOpened) {
  ASSERT_EQ(mkfifo((rootfs_ + "/fifo").c_str(), 0666), 0);
  // A FIFO in the tree is a sandbox pipe: no reader, so a writer gets ENXIO.
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/fifo", O_WRONLY | O_NONBLOCK, 0).error(), Errno(ENXIO));
  EXPECT_TRUE(vfs::OpenAt(ctx_, AT_FDCWD, "/fifo", O_RDWR, 0).ok());
  ASSERT_EQ(mknod((rootfs_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/null", O_RDWR, 0).error(), Errno(EACCES));
}

TEST_F(GoferFsTest, ReadOnlyInstance) {
  auto ro = gofer::NewGoferRoot(client_, "/", /*readonly=*/true);
  ASSERT_TRUE(ro.ok());
  UseRoot(*ro);
  EXPECT_EQ(Mkdir("/x"), Errno(EROFS));
  EXPECT_EQ(vfs::OpenAt(ctx_, AT_FDCWD, "/etc/passwd", O_WRONLY, 0).error(), Errno(EROFS));
  EXPECT_EQ(ReadFile("/etc/passwd"), "sandbox passwd");
  EXPECT_FALSE(gofer::NewGoferRoot(client_, "/nonexistent", false).ok());
  EXPECT_FALSE(gofer::NewGoferRoot(client_, "/slash", false).ok());  // attach never follows links
}

// The rootfs's lookups are cached when it is read-only: a second walk of
// the same path, found or not, costs no round trip; a writable tree and a
// tree without NameCache ask every time.
TEST_F(GoferFsTest, ReadOnlyRootfsCachesLookups) {
  auto ro = gofer::NewGoferRoot(client_, "/", /*readonly=*/true, gofer::NameCache::kOn);
  ASSERT_TRUE(ro.ok());
  UseRoot(*ro);
  ASSERT_TRUE(Node("/deep/er").ok());
  ASSERT_EQ(Node("/deep/missing").error(), Errno(ENOENT));
  const uint64_t before = client_->calls();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Node("/deep/er").ok());
    EXPECT_EQ(Node("/deep/missing").error(), Errno(ENOENT));
  }
  EXPECT_EQ(client_->calls(), before);
  // Still the same files: content and errors as before.
  EXPECT_EQ(ReadFile("/etc/passwd"), "sandbox passwd");
  EXPECT_EQ(HostOf("/deep/er/esc/passwd"), rootfs_ + "/etc/passwd");

  for (bool readonly : {false, true}) {
    auto plain = gofer::NewGoferRoot(client_, "/", readonly);  // NameCache::kOff
    ASSERT_TRUE(plain.ok());
    UseRoot(*plain);
    ASSERT_TRUE(Node("/deep/er").ok());
    const uint64_t n = client_->calls();
    ASSERT_TRUE(Node("/deep/er").ok());
    EXPECT_GT(client_->calls(), n) << "readonly=" << readonly;
  }
}

TEST_F(GoferFsTest, DeadGoferGivesEio) {
  ASSERT_EQ(ReadFile("/etc/passwd"), "sandbox passwd");
  shutdown(server_sock_, SHUT_RDWR);
  thread_.join();
  auto n = Node("/deep/er");
  EXPECT_EQ(n.error(), Errno(EIO));
  EXPECT_EQ(Mkdir("/newdir"), Errno(EIO));
}

}  // namespace
}  // namespace palisade::testing
