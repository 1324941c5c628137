// The gofer server's operations and its answers to bad input, through a
// real socketpair (gofer_test_util.h).
#include <sys/socket.h>
#include <sys/stat.h>

#include <sys/sysmacros.h>

#include <set>

#include "tests/unit/gofer/gofer_test_util.h"

namespace palisade::gofer {
namespace {

using ServerTest = GoferFixture;

TEST_F(ServerTest, AttachWalkStatAndOpenDonatesFd) {
  Start();
  auto root = Attach();
  ASSERT_TRUE(root.ok());
  auto w = Walk(*root, {"etc", "passwd"});
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->nodes_size(), 2);
  EXPECT_TRUE(S_ISDIR(w->nodes(0).attr().mode()));
  EXPECT_TRUE(S_ISREG(w->nodes(1).attr().mode()));
  EXPECT_EQ(w->nodes(1).attr().size(), 26);
  auto fd = Open(w->nodes(1).fid(), O_RDONLY);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(ReadFd(fd->get()), "root:x:0:0::/root:/bin/sh\n");
  EXPECT_NE(fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(ServerTest, CreateWriteThroughDonatedFdRenameUnlink) {
  Start();
  auto root = Attach();
  ASSERT_TRUE(root.ok());
  proto::Request c;
  c.mutable_create()->set_dir(*root);
  c.mutable_create()->set_name("new");
  c.mutable_create()->set_mode(0640);
  c.mutable_create()->set_uid(getuid());
  c.mutable_create()->set_gid(getgid());
  auto made = Call(c);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->nodes(0).attr().mode() & 07777, 0640u);
  auto fd = Open(made->nodes(0).fid(), O_WRONLY);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(pwrite(fd->get(), "hello", 5, 0), 5);
  std::ifstream in(dir_ + "/root/new");
  std::string got;
  in >> got;
  EXPECT_EQ(got, "hello");

  proto::Request rn;
  rn.mutable_rename()->set_old_dir(*root);
  rn.mutable_rename()->set_old_name("new");
  rn.mutable_rename()->set_new_dir(*root);
  rn.mutable_rename()->set_new_name("renamed");
  ASSERT_TRUE(Call(rn).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/root/renamed"));

  proto::Request un;
  un.mutable_unlink()->set_dir(*root);
  un.mutable_unlink()->set_name("renamed");
  ASSERT_TRUE(Call(un).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/root/renamed"));
  auto again = Call(un);
  EXPECT_EQ(again.error(), Errno(ENOENT));
}

TEST_F(ServerTest, MkdirSymlinkReadlinkReadDirSetAttr) {
  Start();
  auto root = Attach();
  ASSERT_TRUE(root.ok());
  proto::Request m;
  m.mutable_mkdir()->set_dir(*root);
  m.mutable_mkdir()->set_name("d");
  m.mutable_mkdir()->set_mode(0700);
  ASSERT_TRUE(Call(m).ok());
  proto::Request s;
  s.mutable_symlink()->set_dir(*root);
  s.mutable_symlink()->set_name("l");
  s.mutable_symlink()->set_target("/anything/at/all");
  auto sl = Call(s);
  ASSERT_TRUE(sl.ok());
  proto::Request rl;
  rl.mutable_readlink()->set_fid(sl->nodes(0).fid());
  auto target = Call(rl);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->link_target(), "/anything/at/all");

  proto::Request rd;
  rd.mutable_readdir()->set_fid(*root);
  auto list = Call(rd);
  ASSERT_TRUE(list.ok());
  std::set<std::string> names;
  for (const auto& e : list->entries()) names.insert(e.name());
  EXPECT_EQ(names, (std::set<std::string>{"d", "etc", "l", "secret"}));

  auto f = Walk(*root, {"secret"});
  ASSERT_TRUE(f.ok());
  proto::Request sa;
  sa.mutable_setattr()->set_fid(f->nodes(0).fid());
  sa.mutable_setattr()->set_mask(1 | 8);  // mode, size
  sa.mutable_setattr()->set_mode(0600);
  sa.mutable_setattr()->set_size(2);
  auto attr = Call(sa);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->attr().mode() & 07777, 0600u);
  EXPECT_EQ(attr->attr().size(), 2);
}

TEST_F(ServerTest, MknodRefusesDevices) {
  Start();
  auto root = Attach();
  ASSERT_TRUE(root.ok());
  proto::Request m;
  m.mutable_mknod()->set_dir(*root);
  m.mutable_mknod()->set_name("null");
  m.mutable_mknod()->set_mode(S_IFCHR | 0666);
  EXPECT_EQ(Call(m).error(), Errno(EPERM));
  m.mutable_mknod()->set_mode(S_IFIFO | 0600);
  m.mutable_mknod()->set_name("fifo");
  ASSERT_TRUE(Call(m).ok());
  auto f = Walk(*root, {"fifo"});
  ASSERT_TRUE(f.ok());
  // FIFOs are the sentry's own pipes: never opened on the host.
  EXPECT_EQ(Open(f->nodes(0).fid(), O_RDONLY).error(), Errno(ENXIO));
}

TEST_F(ServerTest, OpenRefusesHostDevicesAndBadFlags) {
  Start();
  ASSERT_EQ(mknod((dir_ + "/root/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
  auto root = Attach();
  auto f = Walk(*root, {"zero"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(Open(f->nodes(0).fid(), O_RDONLY).error(), Errno(EACCES));
  auto s = Walk(*root, {"secret"});
  EXPECT_EQ(Open(s->nodes(0).fid(), O_RDWR | O_TRUNC).error(), Errno(EINVAL));
  EXPECT_EQ(Open(s->nodes(0).fid(), O_PATH).error(), Errno(EINVAL));
}

// Raw packets, bypassing the client's checks.
proto::Response RawCall(int sock, const std::string& bytes) {
  EXPECT_TRUE(SendPacket(sock, bytes).ok());
  auto p = RecvPacket(sock);
  EXPECT_TRUE(p.ok());
  proto::Response r;
  EXPECT_TRUE(r.ParseFromString(p->data));
  return r;
}

TEST_F(ServerTest, MalformedRequestsGetErrorsAndTheServerSurvives) {
  Start();
  proto::Response r = RawCall(client_sock_, std::string("\xff\xff\xff\xff garbage", 13));
  EXPECT_EQ(r.errno_value(), EBADMSG);
  EXPECT_NE(r.error().find("malformed"), std::string::npos);

  proto::Request old;
  old.set_version(7);
  old.mutable_attach()->set_path("/");
  r = RawCall(client_sock_, old.SerializeAsString());
  EXPECT_EQ(r.errno_value(), EPROTO);
  EXPECT_NE(r.error().find("version 7"), std::string::npos);

  proto::Request none;  // right version, no operation (or one we do not know)
  none.set_version(proto::VERSION_CURRENT);
  r = RawCall(client_sock_, none.SerializeAsString());
  EXPECT_EQ(r.errno_value(), ENOSYS);
  // An operation from a future version: an unknown field number 99.
  std::string future = none.SerializeAsString() + std::string("\x9a\x06\x00", 3);
  r = RawCall(client_sock_, future);
  EXPECT_EQ(r.errno_value(), ENOSYS);

  proto::Request badfid;
  badfid.set_version(proto::VERSION_CURRENT);
  badfid.mutable_stat()->set_fid(12345);
  r = RawCall(client_sock_, badfid.SerializeAsString());
  EXPECT_EQ(r.errno_value(), EBADF);

  proto::Request badpath;
  badpath.set_version(proto::VERSION_CURRENT);
  badpath.mutable_attach()->set_path("relative");
  EXPECT_EQ(RawCall(client_sock_, badpath.SerializeAsString()).errno_value(), EINVAL);

  // A request carrying an fd: the fd is closed unused, the request answered.
  proto::Request ok;
  ok.set_version(proto::VERSION_CURRENT);
  ok.mutable_attach()->set_path("/");
  ASSERT_TRUE(SendPacket(client_sock_, ok.SerializeAsString(), STDIN_FILENO).ok());
  auto p = RecvPacket(client_sock_);
  ASSERT_TRUE(p.ok());

  // Still serving.
  EXPECT_TRUE(Attach().ok());
}

TEST_F(ServerTest, DeadGoferMakesCallsFailWithEio) {
  Start();
  ASSERT_TRUE(Attach().ok());
  // Kill the server's side: shut the socket down under it.
  ASSERT_EQ(shutdown(client_sock_, SHUT_RDWR), 0);
  EXPECT_EQ(Attach().error(), Errno(EIO));
  EXPECT_TRUE(client_->dead());
  EXPECT_EQ(Attach().error(), Errno(EIO));
}

}  // namespace
}  // namespace palisade::gofer
