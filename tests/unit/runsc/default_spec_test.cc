#include "runsc/oci/default_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runsc/oci/spec_parse.h"

namespace palisade::oci {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

TEST(DefaultSpecTest, ParsesBackAsRuncsTemplate) {
  const std::string text = DefaultSpec({}).dump(1, '\t');
  absl::StatusOr<OciSpec> spec = ParseSpec(text);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->oci_version, kOciSpecVersion);
  ASSERT_TRUE(spec->process.has_value());
  EXPECT_TRUE(spec->process->terminal);
  EXPECT_THAT(spec->process->args, ElementsAre("sh"));
  EXPECT_EQ(spec->process->cwd, "/");
  EXPECT_TRUE(spec->process->no_new_privileges);
  ASSERT_EQ(spec->process->rlimits.size(), 1u);
  EXPECT_EQ(spec->process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(spec->process->rlimits[0].soft, 1024u);
  EXPECT_EQ(spec->root.path, "rootfs");
  EXPECT_TRUE(spec->root.readonly);
  EXPECT_EQ(spec->hostname, "palisade");
  ASSERT_EQ(spec->mounts.size(), 7u);
  EXPECT_EQ(spec->mounts[0].destination, "/proc");
  EXPECT_EQ(spec->mounts[5].destination, "/sys");
  EXPECT_EQ(spec->mounts[5].type, "sysfs");
  ASSERT_TRUE(spec->linux_config.has_value());
  EXPECT_EQ(spec->linux_config->namespaces.size(), 6u);
  EXPECT_TRUE(spec->linux_config->resources.is_object());
  EXPECT_TRUE(spec->linux_config->uid_mappings.empty());
  EXPECT_EQ(spec->linux_config->masked_paths.size(), 10u);
}

TEST(DefaultSpecTest, KeepsRuncsKeyOrder) {
  const std::string text = DefaultSpec({}).dump();
  EXPECT_LT(text.find("\"ociVersion\""), text.find("\"process\""));
  EXPECT_LT(text.find("\"process\""), text.find("\"root\""));
  EXPECT_LT(text.find("\"root\""), text.find("\"linux\""));
}

TEST(DefaultSpecTest, RootlessMapsTheCallerToRoot) {
  const std::string text = DefaultSpec({.rootless = true, .uid = 1000, .gid = 1001}).dump();
  absl::StatusOr<OciSpec> spec = ParseSpec(text);
  ASSERT_TRUE(spec.ok()) << spec.status();
  const LinuxConfig& l = *spec->linux_config;
  std::vector<std::string> types;
  for (const Namespace& ns : l.namespaces) types.push_back(ns.type);
  EXPECT_THAT(types, Not(Contains("network")));
  EXPECT_EQ(types.back(), "user");
  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(l.uid_mappings[0].host_id, 1000u);
  EXPECT_EQ(l.uid_mappings[0].size, 1u);
  ASSERT_EQ(l.gid_mappings.size(), 1u);
  EXPECT_EQ(l.gid_mappings[0].host_id, 1001u);
  EXPECT_TRUE(l.resources.is_null());
  for (const Mount& m : spec->mounts) {
    EXPECT_THAT(m.options, Not(Contains("gid=5"))) << m.destination;
    if (m.destination == "/sys") {
      EXPECT_EQ(m.type, "none");
      EXPECT_EQ(m.source, "/sys");
      EXPECT_THAT(m.options, ElementsAre("rbind", "nosuid", "noexec", "nodev", "ro"));
    }
  }
}

}  // namespace
}  // namespace palisade::oci
