// The BootConfig codec `palisade boot` reads, and the control framing.
#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "sentry/control/boot_config_json.h"
#include "sentry/control/control.pb.h"
#include "sentry/control/wire.h"

namespace palisade {
namespace {

TEST(BootConfigJson, EveryFieldRoundTrips) {
  BootConfig c;
  c.rootfs = "/r";
  c.root_readonly = true;
  c.argv = {"sh", "-c", "echo"};
  c.env = {"A=1"};
  c.cwd = "/tmp";
  c.uid = 5;
  c.gid = 6;
  c.additional_gids = {7, 8};
  c.hostname = "h";
  c.mounts = {{"/proc", "proc", "proc", {"nosuid"}}};
  c.rlimits = {{7, 10, 20}};
  c.umask = 077;
  c.no_new_privileges = true;
  c.platform = "systrap";
  c.strace = true;
  c.terminal = true;
  auto back = BootConfigFromJson(BootConfigToJson(c));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(BootConfigToJson(*back), BootConfigToJson(c));
  EXPECT_EQ(back->mounts[0].options, std::vector<std::string>{"nosuid"});
  EXPECT_EQ(back->rlimits[0].hard, 20u);
}

TEST(BootConfigJson, MissingFieldsTakeDefaultsAndGarbageIsAnError) {
  auto c = BootConfigFromJson(R"({"argv":["x"]})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->cwd, "/");
  EXPECT_EQ(c->umask, 022u);
  EXPECT_FALSE(BootConfigFromJson("{nope").ok());
  EXPECT_FALSE(BootConfigFromJson(R"({"uid":"root"})").ok());
}

TEST(ControlWire, MessagesAndFdsCrossASeqpacketSocket) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  control::Request req;
  req.mutable_signal()->set_signo(9);
  req.mutable_signal()->set_all(true);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const int donated[] = {p[1]};
  ASSERT_TRUE(control::SendMessage(sv[0], req, donated).ok());
  control::Request got;
  std::vector<int> fds;
  ASSERT_TRUE(control::RecvMessage(sv[1], got, &fds).ok());
  EXPECT_EQ(got.signal().signo(), 9);
  EXPECT_TRUE(got.signal().all());
  ASSERT_EQ(fds.size(), 1u);
  ASSERT_EQ(write(fds[0], "x", 1), 1);
  char c;
  ASSERT_EQ(read(p[0], &c, 1), 1);
  // An empty message (StartRequest has no fields) still arrives.
  control::Response empty;
  ASSERT_TRUE(control::SendMessage(sv[0], empty).ok());
  control::Response r;
  EXPECT_TRUE(control::RecvMessage(sv[1], r).ok());
  close(sv[0]);
  EXPECT_TRUE(absl::IsUnavailable(control::RecvMessage(sv[1], r)));
  for (int fd : {sv[1], p[0], p[1], fds[0]}) close(fd);
}

}  // namespace
}  // namespace palisade
