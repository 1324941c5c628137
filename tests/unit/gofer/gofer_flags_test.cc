// The gofer's command line (gofer/server/gofer_flags.h), as the front end
// writes it (runsc/sandbox/gofer_launch.cc) and as palisade-gofer reads it.
#include "gofer/server/gofer_flags.h"

#include <gtest/gtest.h>

namespace palisade::gofer {
namespace {

TEST(GoferFlags, TheLaunchersCommandLine) {
  LogOptions log;
  auto f = ParseGoferCommandLine({"--log=/run/x/log.json", "--log-format=json", "--debug", "gofer",
                                  "--rootfs", "/b/rootfs", "--binds", "[]", "--sock-fd", "3",
                                  "--report-fd", "4", "--rootfs-writable"},
                                 &log);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(log.file, "/run/x/log.json");
  EXPECT_EQ(log.format, "json");
  EXPECT_TRUE(log.debug);
  EXPECT_EQ(f->rootfs, "/b/rootfs");
  EXPECT_EQ(f->binds_json, "[]");
  EXPECT_EQ(f->sock_fd, 3);
  EXPECT_EQ(f->report_fd, 4);
  EXPECT_TRUE(f->rootfs_writable);
}

TEST(GoferFlags, ValuesInlineOrSeparate) {
  auto f = ParseGoferFlags({"--rootfs=/r", "--sock-fd=5"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->rootfs, "/r");
  EXPECT_EQ(f->sock_fd, 5);
  EXPECT_EQ(f->report_fd, -1);
  EXPECT_FALSE(f->rootfs_writable);
  LogOptions log;
  auto g = ParseGoferCommandLine({"--log", "/l", "--log-format", "text", "gofer", "--rootfs", "/r"}, &log);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(log.file, "/l");
  EXPECT_FALSE(log.debug);
}

TEST(GoferFlags, Errors) {
  EXPECT_FALSE(ParseGoferFlags({"--sock-fd", "3"}).ok());                  // no --rootfs
  EXPECT_FALSE(ParseGoferFlags({"--rootfs"}).ok());                        // no value
  EXPECT_FALSE(ParseGoferFlags({"--rootfs", "/r", "--sock-fd", "x"}).ok());
  EXPECT_FALSE(ParseGoferFlags({"--rootfs", "/r", "--bogus"}).ok());
  EXPECT_FALSE(ParseGoferFlags({"--rootfs", "/r", "--rootfs-writable=maybe"}).ok());
  LogOptions log;
  EXPECT_FALSE(ParseGoferCommandLine({"--log-format=xml", "gofer", "--rootfs", "/r"}, &log).ok());
  EXPECT_FALSE(ParseGoferCommandLine({"--debug"}, &log).ok());             // no command
  EXPECT_FALSE(ParseGoferCommandLine({"serve", "--rootfs", "/r"}, &log).ok());
}

}  // namespace
}  // namespace palisade::gofer
