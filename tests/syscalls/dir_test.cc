// mkdir(2), mkdirat(2), rmdir(2) and getdents64(2).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/util/file_descriptor.h"
#include "tests/syscalls/util/file_util.h"
#include "tests/syscalls/util/syscall_matchers.h"
#include "tests/syscalls/util/temp_path.h"

namespace palisade::testing {
namespace {

// The kernel's record, as getdents64(2) documents it (glibc has no wrapper
// type in older headers, so spell it out).
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

long Getdents64(int fd, void* buf, size_t len) {
  return syscall(SYS_getdents64, fd, buf, len);
}

struct Entry {
  std::string name;
  unsigned char type;
  uint64_t ino;
  int64_t off;
};

// Parses one getdents64 buffer; checks record framing as it goes.
std::vector<Entry> Parse(const char* buf, long n) {
  std::vector<Entry> out;
  long pos = 0;
  while (pos < n) {
    const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + pos);
    EXPECT_GT(d->d_reclen, offsetof(LinuxDirent64, d_name));
    EXPECT_EQ(d->d_reclen % 8, 0) << "records are 8-byte aligned";
    if (d->d_reclen == 0) break;
    out.push_back({d->d_name, d->d_type, d->d_ino, d->d_off});
    pos += d->d_reclen;
  }
  EXPECT_EQ(pos, n);
  return out;
}

// Reads a whole directory with buffers of `bufsize` bytes.
std::vector<Entry> ReadDirectory(int fd, size_t bufsize) {
  std::vector<Entry> all;
  std::vector<char> buf(bufsize);
  for (int guard = 0; guard < 100000; guard++) {
    long n = Getdents64(fd, buf.data(), buf.size());
    EXPECT_THAT(n, SyscallSucceeds());
    if (n <= 0) break;
    for (Entry& e : Parse(buf.data(), n)) all.push_back(std::move(e));
  }
  return all;
}

class DirTest : public ::testing::Test {
 protected:
  void SetUp() override { old_umask_ = umask(022); }
  void TearDown() override { umask(old_umask_); }
  FileDescriptor OpenDir(const std::string& p) {
    int fd = open(p.c_str(), O_RDONLY | O_DIRECTORY);
    EXPECT_THAT(fd, SyscallSucceeds());
    return FileDescriptor(fd);
  }
  TempDir dir_;
  mode_t old_umask_ = 0;
};

TEST_F(DirTest, MkdirCreatesDirectoryWithMaskedMode) {
  std::string d = dir_.Join("d");
  ASSERT_THAT(mkdir(d.c_str(), 0777), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(d.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(st.st_uid, geteuid());
}

TEST_F(DirTest, MkdirErrors) {
  std::string d = dir_.CreateDir("d");
  std::string f = dir_.CreateFile("f");
  EXPECT_THAT(mkdir(d.c_str(), 0755), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mkdir(f.c_str(), 0755), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mkdir(dir_.Join("no/such").c_str(), 0755), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(mkdir((f + "/sub").c_str(), 0755), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(mkdir("", 0755), SyscallFailsWithErrno(ENOENT));
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink(dir_.Join("target").c_str(), link.c_str()), SyscallSucceeds());
  // "EEXIST pathname already exists (not necessarily as a directory). This
  // includes the case where pathname is a symbolic link, dangling or not."
  EXPECT_THAT(mkdir(link.c_str(), 0755), SyscallFailsWithErrno(EEXIST));
}

TEST_F(DirTest, MkdirTrailingSlash) {
  EXPECT_THAT(mkdir((dir_.Join("d") + "/").c_str(), 0755), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(stat(dir_.Join("d").c_str(), &st), SyscallSucceeds());
}

TEST_F(DirTest, MkdiratRelativeToDirfd) {
  FileDescriptor dfd = OpenDir(dir_.path());
  ASSERT_THAT(mkdirat(dfd.get(), "sub", 0700), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(dir_.Join("sub").c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_THAT(mkdirat(-1, "sub2", 0700), SyscallFailsWithErrno(EBADF));
}

TEST_F(DirTest, RmdirRemovesEmptyDirectory) {
  std::string d = dir_.CreateDir("d");
  ASSERT_THAT(rmdir(d.c_str()), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(stat(d.c_str(), &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(rmdir(d.c_str()), SyscallFailsWithErrno(ENOENT));
}

TEST_F(DirTest, RmdirErrors) {
  std::string d = dir_.CreateDir("d");
  dir_.CreateFile("d/f");
  // "ENOTEMPTY pathname contains entries other than . and .. ; or, pathname
  // has .. as its final component. POSIX.1 also allows EEXIST".
  EXPECT_THAT(rmdir(d.c_str()), SyscallFailsWithErrno(::testing::AnyOf(ENOTEMPTY, EEXIST)));
  EXPECT_THAT(rmdir((d + "/..").c_str()),
              SyscallFailsWithErrno(::testing::AnyOf(ENOTEMPTY, EEXIST)));
  EXPECT_THAT(rmdir((d + "/f").c_str()), SyscallFailsWithErrno(ENOTDIR));
  // "EINVAL pathname has . as last component."
  EXPECT_THAT(rmdir((d + "/.").c_str()), SyscallFailsWithErrno(EINVAL));
  std::string link = dir_.Join("link");
  ASSERT_THAT(symlink(d.c_str(), link.c_str()), SyscallSucceeds());
  EXPECT_THAT(rmdir(link.c_str()), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(DirTest, GetdentsOnRemovedDirectoryIsEnoent) {
  std::string d = dir_.CreateDir("d");
  FileDescriptor fd = OpenDir(d);
  ASSERT_THAT(rmdir(d.c_str()), SyscallSucceeds());
  char buf[1024];
  // getdents(2): "ENOENT No such directory." Linux reports it for a
  // directory removed while open.
  EXPECT_THAT(Getdents64(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(ENOENT));
}

TEST_F(DirTest, GetdentsListsEveryEntryOnceWithTypes) {
  std::set<std::string> expected = {".", ".."};
  for (int i = 0; i < 40; i++) {
    std::string name = "file" + std::to_string(i);
    dir_.CreateFile(name);
    expected.insert(name);
  }
  dir_.CreateDir("subdir");
  ASSERT_THAT(symlink("file0", dir_.Join("symlink").c_str()), SyscallSucceeds());
  expected.insert({"subdir", "symlink"});

  FileDescriptor fd = OpenDir(dir_.path());
  std::vector<Entry> entries = ReadDirectory(fd.get(), 4096);
  std::multiset<std::string> seen;
  std::map<std::string, Entry> by_name;
  for (const Entry& e : entries) {
    seen.insert(e.name);
    by_name[e.name] = e;
  }
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
  for (const auto& [name, e] : by_name) {
    EXPECT_NE(e.ino, 0u) << name;
    // d_type may be DT_UNKNOWN on some filesystems; otherwise it must match.
    if (e.type == DT_UNKNOWN) continue;
    if (name == "." || name == ".." || name == "subdir") {
      EXPECT_EQ(e.type, DT_DIR) << name;
    } else if (name == "symlink") {
      EXPECT_EQ(e.type, DT_LNK) << name;
    } else {
      EXPECT_EQ(e.type, DT_REG) << name;
    }
  }
  struct stat st;
  ASSERT_THAT(stat(dir_.Join("file7").c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(by_name["file7"].ino, st.st_ino);
}

TEST_F(DirTest, GetdentsWithSmallBuffersReturnsSameEntries) {
  for (int i = 0; i < 25; i++) dir_.CreateFile("entry-with-a-longish-name-" + std::to_string(i));
  FileDescriptor a = OpenDir(dir_.path());
  FileDescriptor b = OpenDir(dir_.path());
  std::vector<Entry> big = ReadDirectory(a.get(), 32768);
  // Room for about one record at a time.
  std::vector<Entry> small = ReadDirectory(b.get(), 64);
  std::multiset<std::string> x, y;
  for (auto& e : big) x.insert(e.name);
  for (auto& e : small) y.insert(e.name);
  EXPECT_EQ(x.size(), 27u);
  EXPECT_EQ(x, y);
}

TEST_F(DirTest, GetdentsBufferTooSmallForOneEntryIsEinval) {
  dir_.CreateFile("name-that-does-not-fit-in-the-buffer");
  FileDescriptor fd = OpenDir(dir_.path());
  char buf[8];
  // "EINVAL Result buffer is too small."
  EXPECT_THAT(Getdents64(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EINVAL));
}

TEST_F(DirTest, GetdentsErrors) {
  char buf[1024];
  EXPECT_THAT(Getdents64(-1, buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
  std::string f = dir_.CreateFile("f", "x");
  int fd = open(f.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor guard(fd);
  EXPECT_THAT(Getdents64(fd, buf, sizeof(buf)), SyscallFailsWithErrno(ENOTDIR));
  FileDescriptor dfd = OpenDir(dir_.path());
  EXPECT_THAT(Getdents64(dfd.get(), BadPointer(), 1024), SyscallFailsWithErrno(EFAULT));
}

TEST_F(DirTest, SeekingToDoffResumesListing) {
  for (int i = 0; i < 10; i++) dir_.CreateFile("f" + std::to_string(i));
  FileDescriptor fd = OpenDir(dir_.path());
  std::vector<Entry> all = ReadDirectory(fd.get(), 4096);
  ASSERT_EQ(all.size(), 12u);
  // d_off is "the offset to the next linux_dirent64"; seeking there resumes.
  ASSERT_THAT(lseek(fd.get(), all[4].off, SEEK_SET), SyscallSucceeds());
  std::vector<Entry> rest = ReadDirectory(fd.get(), 4096);
  ASSERT_EQ(rest.size(), 7u);
  for (size_t i = 0; i < rest.size(); i++) EXPECT_EQ(rest[i].name, all[5 + i].name);
  // Rewinding lists everything again, in the same order.
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  std::vector<Entry> again = ReadDirectory(fd.get(), 4096);
  ASSERT_EQ(again.size(), all.size());
  for (size_t i = 0; i < all.size(); i++) EXPECT_EQ(again[i].name, all[i].name);
}

TEST_F(DirTest, RemovedEntryIsNotListedAfterRewind) {
  dir_.CreateFile("keep");
  std::string gone = dir_.CreateFile("gone");
  ASSERT_THAT(unlink(gone.c_str()), SyscallSucceeds());
  FileDescriptor fd = OpenDir(dir_.path());
  std::set<std::string> names;
  for (auto& e : ReadDirectory(fd.get(), 4096)) names.insert(e.name);
  EXPECT_EQ(names, (std::set<std::string>{".", "..", "keep"}));
}

TEST_F(DirTest, ReaddirAgreesWithGetdents) {
  for (int i = 0; i < 5; i++) dir_.CreateFile("r" + std::to_string(i));
  DIR* d = opendir(dir_.path().c_str());
  ASSERT_NE(d, nullptr) << ErrnoName(errno);
  std::set<std::string> names;
  while (struct dirent* e = readdir(d)) names.insert(e->d_name);
  closedir(d);
  EXPECT_EQ(names, (std::set<std::string>{".", "..", "r0", "r1", "r2", "r3", "r4"}));
}

}  // namespace
}  // namespace palisade::testing
