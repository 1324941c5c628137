// inotify(7): inotify_init/init1, inotify_add_watch, inotify_rm_watch and
// the events the VFS reports: IN_CREATE, IN_DELETE, IN_MODIFY, IN_ATTRIB,
// IN_MOVED_FROM/IN_MOVED_TO with a shared cookie, IN_MOVE_SELF,
// IN_OPEN/IN_CLOSE_WRITE/IN_CLOSE_NOWRITE, IN_DELETE_SELF and IN_IGNORED,
// plus the watch flags (IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE,
// IN_ONLYDIR, IN_DONT_FOLLOW), reads, FIONREAD, poll and the errors.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
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

struct Ev {
  int wd;
  uint32_t mask;
  uint32_t cookie;
  std::string name;
};

FileDescriptor MakeInotify(int flags = IN_NONBLOCK) {
  int fd = inotify_init1(flags);
  EXPECT_THAT(fd, SyscallSucceeds());
  return FileDescriptor(fd);
}

int Watch(int fd, const std::string& path, uint32_t mask) {
  int wd = inotify_add_watch(fd, path.c_str(), mask);
  EXPECT_THAT(wd, SyscallSucceeds()) << path;
  return wd;
}

// Everything queued now (the fd is non-blocking).
std::vector<Ev> Drain(int fd) {
  std::vector<Ev> out;
  alignas(struct inotify_event) char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* e = reinterpret_cast<struct inotify_event*>(p);
      out.push_back({e->wd, e->mask, e->cookie, e->len ? std::string(e->name) : ""});
      p += sizeof(*e) + e->len;
    }
  }
  return out;
}

std::vector<uint32_t> Masks(const std::vector<Ev>& evs) {
  std::vector<uint32_t> m;
  for (auto& e : evs) m.push_back(e.mask);
  return m;
}

TEST(InotifyTest, InitFlags) {
  FileDescriptor a = MakeInotify(0);
  EXPECT_FALSE(fcntl(a.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_THAT(fcntl(a.get(), F_GETFD), SyscallSucceedsWithValue(0));
  FileDescriptor b = MakeInotify(IN_NONBLOCK | IN_CLOEXEC);
  EXPECT_TRUE(fcntl(b.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_THAT(fcntl(b.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  int c = inotify_init();
  ASSERT_THAT(c, SyscallSucceeds());
  close(c);
  // "EINVAL (inotify_init1()) An invalid value was specified in flags."
  EXPECT_THAT(inotify_init1(0x1), SyscallFailsWithErrno(EINVAL));
  char link[64] = {};
  std::string self = "/proc/self/fd/" + std::to_string(b.get());
  ASSERT_THAT(readlink(self.c_str(), link, sizeof(link) - 1), SyscallSucceeds());
  EXPECT_STREQ(link, "anon_inode:inotify");
}

TEST(InotifyTest, EmptyQueue) {
  FileDescriptor fd = MakeInotify();
  char buf[256];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
  int n = -1;
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(InotifyTest, AddWatchErrors) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string file = dir.CreateFile("f");
  // "EINVAL The given event mask contains no valid events" / MASK_ADD with MASK_CREATE.
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE),
              SyscallFailsWithErrno(EINVAL));
  // "EBADF The given file descriptor is not valid." / "EINVAL fd is not an inotify file descriptor."
  EXPECT_THAT(inotify_add_watch(-1, dir.path().c_str(), IN_CREATE), SyscallFailsWithErrno(EBADF));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(inotify_add_watch(r.get(), dir.path().c_str(), IN_CREATE), SyscallFailsWithErrno(EINVAL));
  // "ENOENT A directory component in pathname does not exist"
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.Join("missing").c_str(), IN_CREATE), SyscallFailsWithErrno(ENOENT));
  // "EFAULT pathname points outside of the process's accessible address space."
  EXPECT_THAT(inotify_add_watch(fd.get(), static_cast<const char*>(BadPointer()), IN_CREATE),
              SyscallFailsWithErrno(EFAULT));
  // IN_ONLYDIR: "ENOTDIR mask contains IN_ONLYDIR and pathname is not a directory."
  EXPECT_THAT(inotify_add_watch(fd.get(), file.c_str(), IN_MODIFY | IN_ONLYDIR), SyscallFailsWithErrno(ENOTDIR));
  // rm_watch: "EINVAL The watch descriptor wd is not valid"; EBADF; not inotify.
  EXPECT_THAT(inotify_rm_watch(fd.get(), 12345), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_rm_watch(-1, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(inotify_rm_watch(r.get(), 1), SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, SameFileSameWatchDescriptor) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  int wd1 = Watch(fd.get(), dir.path(), IN_CREATE);
  int wd2 = Watch(fd.get(), dir.path() + "/.", IN_DELETE);
  EXPECT_EQ(wd1, wd2);
  // The mask was replaced: creations are no longer reported.
  dir.CreateFile("a");
  EXPECT_TRUE(Drain(fd.get()).empty());
  // IN_MASK_ADD ORs.
  EXPECT_EQ(Watch(fd.get(), dir.path(), IN_CREATE | IN_MASK_ADD), wd1);
  dir.CreateFile("b");
  ASSERT_THAT(unlink(dir.Join("a").c_str()), SyscallSucceeds());
  auto evs = Drain(fd.get());
  ASSERT_EQ(evs.size(), 2u);  // IN_CREATE b, IN_DELETE a
  EXPECT_EQ(evs[0].mask, uint32_t(IN_CREATE));
  EXPECT_EQ(evs[0].name, "b");
  EXPECT_EQ(evs.back().mask, uint32_t(IN_DELETE));
  EXPECT_EQ(evs.back().name, "a");
  // IN_MASK_CREATE on a watched file: EEXIST.
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE | IN_MASK_CREATE),
              SyscallFailsWithErrno(EEXIST));
  // Another instance gets its own descriptors.
  FileDescriptor other = MakeInotify();
  EXPECT_GE(Watch(other.get(), dir.path(), IN_CREATE), 1);
}

TEST(InotifyTest, CreateAndDeleteInADirectory) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  int wd = Watch(fd.get(), dir.path(), IN_CREATE | IN_DELETE);
  int f = open(dir.Join("file").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_THAT(f, SyscallSucceeds());
  close(f);
  ASSERT_THAT(mkdir(dir.Join("sub").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(symlink("file", dir.Join("link").c_str()), SyscallSucceeds());
  ASSERT_THAT(unlink(dir.Join("link").c_str()), SyscallSucceeds());
  ASSERT_THAT(rmdir(dir.Join("sub").c_str()), SyscallSucceeds());
  auto evs = Drain(fd.get());
  ASSERT_EQ(evs.size(), 5u);
  EXPECT_EQ(evs[0].wd, wd);
  EXPECT_EQ(evs[0].mask, uint32_t(IN_CREATE));
  EXPECT_EQ(evs[0].name, "file");
  EXPECT_EQ(evs[1].mask, uint32_t(IN_CREATE | IN_ISDIR));
  EXPECT_EQ(evs[1].name, "sub");
  EXPECT_EQ(evs[2].mask, uint32_t(IN_CREATE));
  EXPECT_EQ(evs[2].name, "link");
  EXPECT_EQ(evs[3].mask, uint32_t(IN_DELETE));
  EXPECT_EQ(evs[3].name, "link");
  EXPECT_EQ(evs[4].mask, uint32_t(IN_DELETE | IN_ISDIR));
  EXPECT_EQ(evs[4].name, "sub");
}

TEST(InotifyTest, ModifyOpenCloseOnAFileAndItsDirectory) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string path = dir.CreateFile("data", "x");
  int fwd = Watch(fd.get(), path, IN_MODIFY | IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_ACCESS);
  int dwd = Watch(fd.get(), dir.path(), IN_MODIFY | IN_CLOSE_WRITE);
  int w = open(path.c_str(), O_WRONLY);
  ASSERT_THAT(w, SyscallSucceeds());
  ASSERT_THAT(write(w, "abc", 3), SyscallSucceeds());
  close(w);
  int r = open(path.c_str(), O_RDONLY);
  ASSERT_THAT(r, SyscallSucceeds());
  char c;
  ASSERT_THAT(read(r, &c, 1), SyscallSucceeds());
  close(r);
  auto evs = Drain(fd.get());
  std::vector<std::pair<int, uint32_t>> got;
  for (auto& e : evs) got.push_back({e.wd, e.mask});
  // Whether the directory's copy of an event comes before the file's
  // differs between kernel versions: compare as sets.
  std::vector<std::pair<int, uint32_t>> want = {
      {fwd, IN_OPEN},       {fwd, IN_MODIFY},        {dwd, IN_MODIFY},      {fwd, IN_CLOSE_WRITE},
      {dwd, IN_CLOSE_WRITE}, {fwd, IN_OPEN},         {fwd, IN_ACCESS},      {fwd, IN_CLOSE_NOWRITE}};
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  for (auto& e : evs) EXPECT_EQ(e.name, e.wd == dwd ? "data" : "");
}

TEST(InotifyTest, AttribOnChmodChownUtimesAndTruncateIsModify) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string path = dir.CreateFile("f", "12345");
  Watch(fd.get(), path, IN_ATTRIB | IN_MODIFY);
  // Drained after each call: identical consecutive events are merged.
  ASSERT_THAT(chmod(path.c_str(), 0600), SyscallSucceeds());
  EXPECT_EQ(Masks(Drain(fd.get())), std::vector<uint32_t>{IN_ATTRIB});
  ASSERT_THAT(chown(path.c_str(), getuid(), getgid()), SyscallSucceeds());
  EXPECT_EQ(Masks(Drain(fd.get())), std::vector<uint32_t>{IN_ATTRIB});
  ASSERT_THAT(utimensat(AT_FDCWD, path.c_str(), nullptr, 0), SyscallSucceeds());
  EXPECT_EQ(Masks(Drain(fd.get())), std::vector<uint32_t>{IN_ATTRIB});
  ASSERT_THAT(truncate(path.c_str(), 1), SyscallSucceeds());
  EXPECT_EQ(Masks(Drain(fd.get())), std::vector<uint32_t>{IN_MODIFY});
  // chown(-1, -1) changes nothing and reports nothing.
  ASSERT_THAT(chown(path.c_str(), -1, -1), SyscallSucceeds());
  EXPECT_TRUE(Drain(fd.get()).empty());
}

TEST(InotifyTest, RenameHasMatchingCookies) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string a = dir.CreateDir("a"), b = dir.CreateDir("b");
  std::string file = dir.CreateFile("a/f");
  int wa = Watch(fd.get(), a, IN_MOVED_FROM | IN_MOVED_TO);
  int wb = Watch(fd.get(), b, IN_MOVED_FROM | IN_MOVED_TO);
  int wf = Watch(fd.get(), file, IN_MOVE_SELF);
  ASSERT_THAT(rename(file.c_str(), (b + "/g").c_str()), SyscallSucceeds());
  auto evs = Drain(fd.get());
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].wd, wa);
  EXPECT_EQ(evs[0].mask, uint32_t(IN_MOVED_FROM));
  EXPECT_EQ(evs[0].name, "f");
  EXPECT_EQ(evs[1].wd, wb);
  EXPECT_EQ(evs[1].mask, uint32_t(IN_MOVED_TO));
  EXPECT_EQ(evs[1].name, "g");
  EXPECT_NE(evs[0].cookie, 0u);
  EXPECT_EQ(evs[0].cookie, evs[1].cookie);
  EXPECT_EQ(evs[2].wd, wf);
  EXPECT_EQ(evs[2].mask, uint32_t(IN_MOVE_SELF));
  // The next move gets a different cookie.
  ASSERT_THAT(rename((b + "/g").c_str(), (b + "/h").c_str()), SyscallSucceeds());
  auto more = Drain(fd.get());
  ASSERT_GE(more.size(), 2u);
  EXPECT_EQ(more[0].cookie, more[1].cookie);
  EXPECT_NE(more[0].cookie, evs[0].cookie);
}

TEST(InotifyTest, DeleteSelfThenIgnored) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string path = dir.CreateFile("victim");
  int wd = Watch(fd.get(), path, IN_DELETE_SELF | IN_ATTRIB);
  ASSERT_THAT(unlink(path.c_str()), SyscallSucceeds());
  auto evs = Drain(fd.get());
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].mask, uint32_t(IN_ATTRIB));  // the link count changed
  EXPECT_EQ(evs[1].mask, uint32_t(IN_DELETE_SELF));
  EXPECT_EQ(evs[2].mask, uint32_t(IN_IGNORED));
  for (auto& e : evs) EXPECT_EQ(e.wd, wd);
  // The watch is gone.
  EXPECT_THAT(inotify_rm_watch(fd.get(), wd), SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, RmdirOfWatchedDirectory) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string sub = dir.CreateDir("sub");
  int wd = Watch(fd.get(), sub, IN_DELETE_SELF);
  ASSERT_THAT(rmdir(sub.c_str()), SyscallSucceeds());
  auto evs = Drain(fd.get());
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].wd, wd);
  // Newer kernels add IN_ISDIR for a directory's self events.
  EXPECT_EQ(evs[0].mask & ~uint32_t(IN_ISDIR), uint32_t(IN_DELETE_SELF));
  EXPECT_EQ(evs[1].mask, uint32_t(IN_IGNORED));
}

TEST(InotifyTest, RmWatchQueuesIgnored) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  int wd = Watch(fd.get(), dir.path(), IN_CREATE);
  ASSERT_THAT(inotify_rm_watch(fd.get(), wd), SyscallSucceeds());
  dir.CreateFile("after");
  auto evs = Drain(fd.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].wd, wd);
  EXPECT_EQ(evs[0].mask, uint32_t(IN_IGNORED));
}

TEST(InotifyTest, OneshotWatchFiresOnce) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  int wd = Watch(fd.get(), dir.path(), IN_CREATE | IN_ONESHOT);
  dir.CreateFile("one");
  dir.CreateFile("two");
  auto evs = Drain(fd.get());
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].mask, uint32_t(IN_CREATE));
  EXPECT_EQ(evs[0].name, "one");
  EXPECT_EQ(evs[1].mask, uint32_t(IN_IGNORED));
  EXPECT_EQ(evs[1].wd, wd);
}

TEST(InotifyTest, DontFollowWatchesTheLink) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string target = dir.CreateFile("t");
  ASSERT_THAT(symlink("t", dir.Join("l").c_str()), SyscallSucceeds());
  int via_link = Watch(fd.get(), dir.Join("l"), IN_ATTRIB);
  int link_itself = Watch(fd.get(), dir.Join("l"), IN_ATTRIB | IN_DONT_FOLLOW);
  EXPECT_NE(via_link, link_itself);
  EXPECT_EQ(Watch(fd.get(), target, IN_ATTRIB), via_link);
}

TEST(InotifyTest, ReadBufferRulesAndFionread) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  Watch(fd.get(), dir.path(), IN_CREATE);
  dir.CreateFile("abc");
  dir.CreateFile("defgh");
  int n = 0;
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  // Two events, each with its name NUL-padded to a multiple of 16.
  EXPECT_EQ(n, int(2 * (sizeof(struct inotify_event) + 16)));
  // "EINVAL ... the buffer given to read(2) was too small".
  char small[sizeof(struct inotify_event)];
  EXPECT_THAT(read(fd.get(), small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  // Room for exactly one: one comes back.
  alignas(struct inotify_event) char one[sizeof(struct inotify_event) + 16 + 4];
  ASSERT_THAT(read(fd.get(), one, sizeof(one)), SyscallSucceedsWithValue(int(sizeof(struct inotify_event) + 16)));
  auto* e = reinterpret_cast<struct inotify_event*>(one);
  EXPECT_EQ(e->len, 16u);
  EXPECT_STREQ(e->name, "abc");
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, int(sizeof(struct inotify_event) + 16));
}

TEST(InotifyTest, IdenticalEventsAreMerged) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string path = dir.CreateFile("f");
  Watch(fd.get(), path, IN_MODIFY);
  int w = open(path.c_str(), O_WRONLY);
  ASSERT_THAT(w, SyscallSucceeds());
  FileDescriptor wf(w);
  for (int i = 0; i < 5; i++) ASSERT_THAT(write(w, "x", 1), SyscallSucceeds());
  EXPECT_EQ(Drain(fd.get()).size(), 1u);
}

TEST(InotifyTest, PollEpollAndBlockingRead) {
  FileDescriptor fd = MakeInotify(0);
  TempDir dir;
  Watch(fd.get(), dir.path(), IN_CREATE);
  int ep_raw = epoll_create1(0);
  ASSERT_THAT(ep_raw, SyscallSucceeds());
  FileDescriptor ep(ep_raw);
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev), SyscallSucceeds());
  struct epoll_event out;
  EXPECT_THAT(epoll_wait(ep.get(), &out, 1, 0), SyscallSucceedsWithValue(0));
  dir.CreateFile("x");
  EXPECT_THAT(epoll_wait(ep.get(), &out, 1, 10000), SyscallSucceedsWithValue(1));
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  alignas(struct inotify_event) char buf[512];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceeds());  // blocking fd, data ready
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(InotifyTest, HardLinkIsAttribOnTheFile) {
  FileDescriptor fd = MakeInotify();
  TempDir dir;
  std::string path = dir.CreateFile("orig");
  int fwd = Watch(fd.get(), path, IN_ATTRIB | IN_DELETE_SELF);
  int dwd = Watch(fd.get(), dir.path(), IN_CREATE | IN_DELETE);
  ASSERT_THAT(link(path.c_str(), dir.Join("twin").c_str()), SyscallSucceeds());
  ASSERT_THAT(unlink(path.c_str()), SyscallSucceeds());
  auto evs = Drain(fd.get());
  std::vector<std::pair<int, uint32_t>> got;
  for (auto& e : evs) got.push_back({e.wd, e.mask});
  // Still linked as "twin": no IN_DELETE_SELF.
  std::vector<std::pair<int, uint32_t>> want = {
      {fwd, IN_ATTRIB}, {dwd, IN_CREATE}, {fwd, IN_ATTRIB}, {dwd, IN_DELETE}};
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace palisade::testing
