#include "runsc/cli/global_flags.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace palisade::cli {
namespace {

using ::testing::ElementsAre;

TEST(NormalizeGoStyleFlagsTest, DoublesTheDashOfLongFlags) {
  EXPECT_THAT(NormalizeGoStyleFlags({"-no-subreaper", "-root", "/r", "-log-format=json"}),
              ElementsAre("--no-subreaper", "--root", "/r", "--log-format=json"));
}

TEST(NormalizeGoStyleFlagsTest, LeavesEverythingElseAlone) {
  EXPECT_THAT(NormalizeGoStyleFlags({"--debug", "-d", "-b", "-v", "-b=x", "-", "-1", "-9x",
                                     "run", "id", "--bundle=/x"}),
              ElementsAre("--debug", "-d", "-b", "-v", "-b=x", "-", "-1", "-9x", "run", "id",
                          "--bundle=/x"));
}

TEST(NormalizeGoStyleFlagsTest, StopsAtDoubleDash) {
  EXPECT_THAT(NormalizeGoStyleFlags({"-debug", "--", "-foo"}),
              ElementsAre("--debug", "--", "-foo"));
}

TEST(NormalizeGoStyleFlagsTest, OnlyFlagNameCharacters) {
  EXPECT_THAT(NormalizeGoStyleFlags({"-a.b", "-x/y", "-ok=a.b/c"}),
              ElementsAre("-a.b", "-x/y", "--ok=a.b/c"));
}

TEST(GlobalFlagsTest, DefaultsMatchRunc) {
  CLI::App app;
  GlobalOptions g;
  AddGlobalFlags(app, g);
  app.parse(std::vector<std::string>{});
  EXPECT_EQ(g.root, DefaultRoot());
  EXPECT_EQ(g.log_format, "text");
  EXPECT_EQ(g.platform, "systrap");
  EXPECT_EQ(g.rootless, "auto");
  EXPECT_FALSE(g.debug);
  EXPECT_FALSE(g.strace);
}

TEST(GlobalFlagsTest, ParsesEveryFlag) {
  CLI::App app;
  GlobalOptions g;
  AddGlobalFlags(app, g);
  std::vector<std::string> args = {"--root", "/r", "--log=/l", "--log-format", "json", "--debug",
                                   "--systemd-cgroup", "--rootless=true", "--platform=ptrace",
                                   "--strace"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  EXPECT_EQ(g.root, "/r");
  EXPECT_EQ(g.log, "/l");
  EXPECT_EQ(g.log_format, "json");
  EXPECT_TRUE(g.debug);
  EXPECT_TRUE(g.systemd_cgroup);
  EXPECT_EQ(g.rootless, "true");
  EXPECT_TRUE(g.strace);
  LogOptions lo = ToLogOptions(g);
  EXPECT_TRUE(lo.debug);
  EXPECT_EQ(lo.file, "/l");
  EXPECT_EQ(lo.format, "json");
}

TEST(GlobalFlagsTest, RejectsBadLogFormat) {
  CLI::App app;
  GlobalOptions g;
  AddGlobalFlags(app, g);
  EXPECT_THROW(app.parse(std::vector<std::string>{"xml", "--log-format"}), CLI::ValidationError);
}

TEST(GlobalFlagsTest, DefaultRootHonoursXdgRuntimeDirForNonRoot) {
  setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  EXPECT_EQ(DefaultRoot(), geteuid() == 0 ? "/run/palisade" : "/run/user/1000/palisade");
  unsetenv("XDG_RUNTIME_DIR");
  EXPECT_EQ(DefaultRoot(), "/run/palisade");
}

}  // namespace
}  // namespace palisade::cli
