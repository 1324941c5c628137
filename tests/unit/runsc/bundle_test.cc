#include "runsc/oci/bundle.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runsc/oci/boot_config.h"
#include "runsc/oci/rlimits.h"
#include "runsc/oci/spec_parse.h"
#include "tests/unit/runsc/test_util.h"

namespace palisade::oci {
namespace {

using ::palisade::testing::MinimalConfig;
using ::palisade::testing::TempDir;
using ::palisade::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(BundleTest, RelativeRootIsRelativeToTheBundle) {
  TempDir dir;
  ASSERT_EQ(mkdir(dir.Sub("rootfs").c_str(), 0755), 0);
  WriteFile(dir.Sub("config.json"), MinimalConfig("rootfs"));
  absl::StatusOr<Bundle> b = LoadBundle(dir.path());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dir, dir.path());
  EXPECT_EQ(b->rootfs, std::filesystem::canonical(dir.Sub("rootfs")).string());
  EXPECT_EQ(b->spec.root.path, "rootfs");
}

TEST(BundleTest, RelativeBundleDirIsRelativeToCwd) {
  TempDir dir;
  ASSERT_EQ(mkdir(dir.Sub("b").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.Sub("b/rootfs").c_str(), 0755), 0);
  WriteFile(dir.Sub("b/config.json"), MinimalConfig("./rootfs/"));
  const std::filesystem::path old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  absl::StatusOr<Bundle> b = LoadBundle("b/");
  absl::StatusOr<Bundle> cwd_bundle = LoadBundle("");  // the cwd has no config.json
  std::filesystem::current_path(old);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dir, dir.Sub("b"));
  EXPECT_EQ(b->rootfs, std::filesystem::canonical(dir.Sub("b/rootfs")).string());
  ASSERT_FALSE(cwd_bundle.ok());
  EXPECT_THAT(Message(cwd_bundle.status()), HasSubstr("config.json not found"));
}

TEST(BundleTest, AbsoluteRootIsUsedAsIs) {
  TempDir dir, elsewhere;
  WriteFile(dir.Sub("config.json"), MinimalConfig(elsewhere.path()));
  absl::StatusOr<Bundle> b = LoadBundle(dir.path());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->rootfs, std::filesystem::canonical(elsewhere.path()).string());
}

TEST(BundleTest, MissingRootfsIsAClearError) {
  TempDir dir;
  WriteFile(dir.Sub("config.json"), MinimalConfig("rootfs"));
  absl::StatusOr<Bundle> b = LoadBundle(dir.path());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(Message(b.status()), "rootfs \"" + dir.Sub("rootfs") + "\" does not exist");
}

TEST(BundleTest, RootfsThatIsAFileIsAnError) {
  TempDir dir;
  WriteFile(dir.Sub("rootfs"), "");
  WriteFile(dir.Sub("config.json"), MinimalConfig("rootfs"));
  absl::StatusOr<Bundle> b = LoadBundle(dir.path());
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(Message(b.status()), HasSubstr("is not a directory"));
}

TEST(BundleTest, MissingBundleAndMissingConfig) {
  TempDir dir;
  absl::StatusOr<Bundle> none = LoadBundle(dir.Sub("nope"));
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(Message(none.status()), HasSubstr("bundle \"" + dir.Sub("nope") + "\" does not exist"));
  absl::StatusOr<Bundle> no_config = LoadBundle(dir.path());
  ASSERT_FALSE(no_config.ok());
  EXPECT_THAT(Message(no_config.status()), HasSubstr("JSON specification file config.json not found"));
}

TEST(BundleTest, ParseErrorsPassThrough) {
  TempDir dir;
  WriteFile(dir.Sub("config.json"), R"({"root":{"path":"r"},"process":{"args":[],"cwd":"/"}})");
  absl::StatusOr<Bundle> b = LoadBundle(dir.path());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(Message(b.status()), "config.json: process.args: must not be empty");
}

Bundle MakeBundle(const std::string& json) {
  absl::StatusOr<OciSpec> spec = ParseSpec(json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return Bundle{.dir = "/b", .rootfs = "/b/rootfs", .spec = *spec};
}

TEST(BootConfigTest, ConvertsTheProcess) {
  Bundle b = MakeBundle(R"({
    "process": {"terminal": true, "args": ["/bin/sh", "-c", "true"], "env": ["A=1"], "cwd": "/tmp",
                "user": {"uid": 1, "gid": 2, "umask": 63, "additionalGids": [3]},
                "noNewPrivileges": true,
                "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 20},
                            {"type": "RLIMIT_STACK", "soft": 8388608, "hard": 18446744073709551615}]},
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "h",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]}]})");
  absl::StatusOr<BootConfig> cfg =
      ToBootConfig(b, {.platform = "ptrace", .strace = true, .stdio_is_tty = true});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->rootfs, "/b/rootfs");
  EXPECT_TRUE(cfg->root_readonly);
  EXPECT_THAT(cfg->argv, ElementsAre("/bin/sh", "-c", "true"));
  EXPECT_THAT(cfg->env, ElementsAre("A=1"));
  EXPECT_EQ(cfg->cwd, "/tmp");
  EXPECT_EQ(cfg->uid, 1u);
  EXPECT_EQ(cfg->gid, 2u);
  EXPECT_THAT(cfg->additional_gids, ElementsAre(3u));
  EXPECT_EQ(cfg->umask, 077u);
  EXPECT_TRUE(cfg->no_new_privileges);
  EXPECT_EQ(cfg->hostname, "h");
  EXPECT_EQ(cfg->platform, "ptrace");
  EXPECT_TRUE(cfg->strace);
  EXPECT_TRUE(cfg->terminal);
  ASSERT_EQ(cfg->rlimits.size(), 2u);
  EXPECT_EQ(cfg->rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(cfg->rlimits[0].soft, 10u);
  EXPECT_EQ(cfg->rlimits[0].hard, 20u);
  EXPECT_EQ(cfg->rlimits[1].resource, RLIMIT_STACK);
  EXPECT_EQ(cfg->rlimits[1].hard, RLIM_INFINITY);
  ASSERT_EQ(cfg->mounts.size(), 1u);
  EXPECT_EQ(cfg->mounts[0].destination, "/proc");
  EXPECT_EQ(cfg->mounts[0].type, "proc");
  EXPECT_EQ(cfg->mounts[0].source, "proc");
  EXPECT_THAT(cfg->mounts[0].options, ElementsAre("nosuid"));
}

TEST(BootConfigTest, DefaultsAndNoTtyWithoutATerminal) {
  Bundle b = MakeBundle(
      R"({"process":{"terminal":true,"args":["x"],"cwd":"/"},"root":{"path":"r"}})");
  absl::StatusOr<BootConfig> cfg = ToBootConfig(b, {});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->umask, 022u);
  EXPECT_EQ(cfg->hostname, "palisade");
  EXPECT_FALSE(cfg->terminal);
  EXPECT_FALSE(cfg->strace);
}

TEST(BootConfigTest, RejectsASpecWithoutProcess) {
  Bundle b = MakeBundle(R"({"root":{"path":"r"}})");
  absl::StatusOr<BootConfig> cfg = ToBootConfig(b, {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(Message(cfg.status()), HasSubstr("process: required to run a container"));
}

TEST(BootConfigTest, RejectsUnknownRlimitBuiltInCode) {
  Bundle b = MakeBundle(R"({"process":{"args":["x"],"cwd":"/"},"root":{"path":"r"}})");
  b.spec.process->rlimits.push_back({.type = "RLIMIT_WHAT", .soft = 1, .hard = 1});
  absl::StatusOr<BootConfig> cfg = ToBootConfig(b, {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(Message(cfg.status()), HasSubstr("unknown rlimit \"RLIMIT_WHAT\""));
}

TEST(RlimitsTest, TableCoversTheSpecNames) {
  EXPECT_EQ(RlimitFromName("RLIMIT_AS"), RLIMIT_AS);
  EXPECT_EQ(RlimitFromName("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_EQ(RlimitFromName("RLIMIT_SIGPENDING"), RLIMIT_SIGPENDING);
  EXPECT_FALSE(RlimitFromName("nofile").has_value());
  EXPECT_EQ(kRlimitNames.size(), static_cast<size_t>(RLIM_NLIMITS));
}

}  // namespace
}  // namespace palisade::oci
