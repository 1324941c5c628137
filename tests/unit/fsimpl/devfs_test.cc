// devfs (sentry/fsimpl/dev): the node table (modes, device numbers,
// symlinks, directories), the memory devices' read/write/seek/mmap rules,
// /dev/tty with and without a terminal, and the writable upper directory.
#include <dirent.h>
#include <pty.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "sentry/fsimpl/dev/devfs.h"
#include "sentry/fsimpl/tmpfs/tmpfs.h"
#include "sentry/mm/mappable_file.h"
#include "tests/unit/fsimpl/io_test_util.h"

namespace palisade::testing {
namespace {

class DevfsTest : public IoTest {
 protected:
  void SetUp() override { root_ = dev::NewDevfsRoot({.fsid = 42, .dev = makedev(0, 42), .tty_host_fd = -1}); }
  InodeRef Node(const char* name) {
    auto n = root_->Lookup(name);
    EXPECT_TRUE(n.ok()) << name;
    return n.ok() ? *n : nullptr;
  }
  FileRef Open(const char* name, int flags) {
    auto f = Node(name)->Open({.flags = flags, .task = &t()});
    EXPECT_TRUE(f.ok()) << name << ": " << f.error().Name();
    return f.ok() ? *f : nullptr;
  }
  InodeRef root_;
};

TEST_F(DevfsTest, CharDevicesAsLinux) {
  struct Row {
    const char* name;
    unsigned major, minor;
  } rows[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  std::set<uint64_t> inos;
  for (const Row& r : rows) {
    auto a = Node(r.name)->GetAttr();
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->mode, uint32_t(S_IFCHR | 0666)) << r.name;
    EXPECT_EQ(major(a->rdev), r.major) << r.name;
    EXPECT_EQ(minor(a->rdev), r.minor) << r.name;
    EXPECT_EQ(a->uid, 0u);
    EXPECT_EQ(a->dev, makedev(0, 42));
    inos.insert(a->ino);
    EXPECT_EQ(Node(r.name)->FsId(), 42u);
  }
  EXPECT_EQ(inos.size(), std::size(rows));  // distinct inode numbers
}

TEST_F(DevfsTest, Symlinks) {
  EXPECT_EQ(*Node("fd")->ReadLink(), "/proc/self/fd");
  EXPECT_EQ(*Node("stdin")->ReadLink(), "/proc/self/fd/0");
  EXPECT_EQ(*Node("stdout")->ReadLink(), "/proc/self/fd/1");
  EXPECT_EQ(*Node("stderr")->ReadLink(), "/proc/self/fd/2");
  auto a = Node("stderr")->GetAttr();
  EXPECT_TRUE(S_ISLNK(a->mode));
  EXPECT_EQ(a->size, int64_t(strlen("/proc/self/fd/2")));
  EXPECT_EQ(root_->Lookup("ptmx").error(), Errno(ENOENT));
}

TEST_F(DevfsTest, Directories) {
  auto a = root_->GetAttr();
  EXPECT_EQ(a->mode, uint32_t(S_IFDIR | 0755));
  EXPECT_EQ(a->nlink, 5u);  // ".", its name, and pts/, shm/, mqueue/
  EXPECT_EQ(Node("shm")->GetAttr()->mode, uint32_t(S_IFDIR | 01777));
  EXPECT_EQ(Node("pts")->GetAttr()->mode, uint32_t(S_IFDIR | 0755));
  EXPECT_TRUE(Node("pts")->ReadDir()->empty());
  std::vector<std::string> names;
  auto entries = root_->ReadDir();
  ASSERT_TRUE(entries.ok());
  for (auto& e : *entries) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"fd", "full", "mqueue", "null", "pts", "random", "shm", "stderr",
                                             "stdin", "stdout", "tty", "urandom", "zero"}));
  auto d = root_->Open({.flags = O_RDONLY | O_DIRECTORY});
  ASSERT_TRUE(d.ok());
  auto ents = (*d)->ReadDir(t(), 100);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ(ents->size(), 15u);  // with "." and ".."
  EXPECT_EQ((*ents)[0].name, ".");
}

TEST_F(DevfsTest, FixedTableRefusesChanges) {
  Credentials c;
  EXPECT_EQ(root_->Create("x", S_IFREG | 0644, c).error(), Errno(EPERM));
  EXPECT_EQ(root_->Mkdir("null", 0755, c).error(), Errno(EEXIST));
  EXPECT_EQ(root_->Unlink("null"), Errno(EPERM));
  EXPECT_EQ(root_->Unlink("nothing"), Errno(ENOENT));
}

TEST_F(DevfsTest, ChmodAndChown) {
  SetAttrRequest req;
  req.mask = SetAttrRequest::kMode | SetAttrRequest::kUid;
  req.mode = 0600;
  req.uid = 1000;
  ASSERT_TRUE(Node("null")->SetAttr(req).ok());
  auto a = Node("null")->GetAttr();
  EXPECT_EQ(a->mode, uint32_t(S_IFCHR | 0600));
  EXPECT_EQ(a->uid, 1000u);
}

TEST_F(DevfsTest, Null) {
  FileRef f = Open("null", O_RDWR);
  std::vector<uint8_t> buf(10, 1);
  EXPECT_EQ(*f->Read(t(), buf), 0);
  EXPECT_EQ(*f->Write(t(), buf), 10);
  EXPECT_EQ(*f->PWrite(t(), buf, 12345), 10);
  EXPECT_EQ(*f->Seek(t(), 100, SEEK_SET), 0);
  EXPECT_EQ(f->Mappable(), nullptr);
  auto st = f->Stat(t());
  EXPECT_EQ(st->st_rdev, makedev(1, 3));
  EXPECT_TRUE(S_ISCHR(st->st_mode));
  EXPECT_EQ(f->Readiness(POLLIN | POLLOUT), uint32_t(POLLIN | POLLOUT));
}

TEST_F(DevfsTest, ZeroAndFull) {
  FileRef z = Open("zero", O_RDWR);
  std::vector<uint8_t> buf(100, 7);
  EXPECT_EQ(*z->Read(t(), buf), 100);
  EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(*z->Write(t(), buf), 100);
  auto m = z->Mappable();
  ASSERT_NE(m, nullptr);
  std::vector<uint8_t> page(4096, 9);
  EXPECT_EQ(*m->ReadAt(page, 1 << 20), 4096);
  EXPECT_EQ(page[4095], 0);

  FileRef f = Open("full", O_RDWR);
  std::fill(buf.begin(), buf.end(), 7);
  EXPECT_EQ(*f->Read(t(), buf), 100);
  EXPECT_EQ(buf[50], 0);
  EXPECT_EQ(f->Write(t(), buf).error(), Errno(ENOSPC));
  EXPECT_EQ(f->Write(t(), std::span<const uint8_t>()).error(), Errno(ENOSPC));
}

TEST_F(DevfsTest, RandomAndUrandom) {
  for (const char* name : {"random", "urandom"}) {
    FileRef f = Open(name, O_RDWR);
    std::vector<uint8_t> a(64), b(64);
    EXPECT_EQ(*f->Read(t(), a), 64);
    EXPECT_EQ(*f->Read(t(), b), 64);
    EXPECT_NE(a, b) << name;
    EXPECT_EQ(*f->Write(t(), a), 64);  // accepted
  }
  FileRef big = Open("urandom", O_RDONLY);
  std::vector<uint8_t> large(40 << 20);  // more than one getrandom call gives
  EXPECT_EQ(*big->Read(t(), large), int64_t(large.size()));
}

TEST_F(DevfsTest, TtyWithoutTerminalIsEnxio) {
  EXPECT_EQ(Node("tty")->Open({.flags = O_RDWR}).error(), Errno(ENXIO));
}

TEST_F(DevfsTest, TtyOpensTheTerminal) {
  int master, slave;
  if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) GTEST_SKIP() << "no ptys here";
  InodeRef root = dev::NewDevfsRoot({.fsid = 43, .tty_host_fd = slave});
  close(slave);  // devfs keeps its own dup
  auto f = (*root->Lookup("tty"))->Open({.flags = O_RDWR, .task = &t()});
  ASSERT_TRUE(f.ok());
  std::vector<uint8_t> msg = {'h', 'i'};
  EXPECT_EQ(*(*f)->Write(t(), msg), 2);
  char buf[8];
  EXPECT_EQ(read(master, buf, sizeof(buf)), 2);
  EXPECT_GE((*f)->HostFdForPoll(), 0);
  close(master);
}

TEST_F(DevfsTest, UpperDirectoryTakesOtherNames) {
  InodeRef upper = tmpfs::NewTmpfsRoot(0755, 0, 0);
  InodeRef root = dev::NewDevfsRoot({.fsid = 44, .tty_host_fd = -1, .upper = upper});
  Credentials c;
  ASSERT_TRUE(root->Mkdir("mydir", 0755, c).ok());
  ASSERT_TRUE(root->Mknod("log", S_IFSOCK | 0666, 0, c).ok());
  EXPECT_TRUE(root->Lookup("mydir").ok());
  EXPECT_TRUE(upper->Lookup("mydir").ok());
  EXPECT_EQ(root->Create("null", S_IFREG | 0644, c).error(), Errno(EEXIST));
  EXPECT_EQ(root->Rename("mydir", *root, "null", 0), Errno(EPERM));
  EXPECT_TRUE(root->Rename("mydir", *root, "other", 0).ok());
  EXPECT_TRUE(root->Lookup("other").ok());
  size_t n = root->ReadDir()->size();
  EXPECT_EQ(n, 13u + 2u);  // the table and the upper entries
  EXPECT_TRUE(root->Unlink("log").ok());
  EXPECT_TRUE(root->Rmdir("other").ok());
  EXPECT_EQ(root->Lookup("other").error(), Errno(ENOENT));
}

TEST_F(DevfsTest, ShmCanBeAnotherFilesystem) {
  InodeRef shm = tmpfs::NewTmpfsRoot(01777, 0, 0);
  InodeRef root = dev::NewDevfsRoot({.fsid = 45, .tty_host_fd = -1, .shm = shm});
  EXPECT_EQ(*root->Lookup("shm"), shm);
}

}  // namespace
}  // namespace palisade::testing
