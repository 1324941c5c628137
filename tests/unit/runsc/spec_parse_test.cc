#include "runsc/oci/spec_parse.h"

#include <sys/resource.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace palisade::oci {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kGood[] = R"({
  "ociVersion": "1.0.2",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 100, "umask": 18, "additionalGids": [5, 6]},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/home",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
                {"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615}],
    "noNewPrivileges": true,
    "apparmorProfile": "ignored-unknown-key"
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
    "resources": {"memory": {"limit": 1048576}},
    "cgroupsPath": "/palisade/x",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 100, "size": 1}],
    "sysctl": {"net.ipv4.ip_forward": "1"}
  },
  "hooks": {"prestart": [{"path": "/usr/bin/hook", "args": ["hook", "x"], "timeout": 5}]},
  "annotations": {"org.example/key": "value"}
})";

TEST(SpecParseTest, ParsesEveryField) {
  absl::StatusOr<OciSpec> spec = ParseSpec(kGood);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->oci_version, "1.0.2");
  ASSERT_TRUE(spec->process.has_value());
  const Process& p = *spec->process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size.has_value());
  EXPECT_EQ(p.console_size->height, 24u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 100u);
  EXPECT_EQ(p.user.umask, 022u);
  EXPECT_THAT(p.user.additional_gids, ElementsAre(5u, 6u));
  EXPECT_THAT(p.args, ElementsAre("/bin/sh", "-c", "echo hi"));
  EXPECT_THAT(p.env, ElementsAre("PATH=/bin", "TERM=xterm"));
  EXPECT_EQ(p.cwd, "/home");
  ASSERT_TRUE(p.capabilities.has_value());
  EXPECT_THAT(p.capabilities->bounding, ElementsAre("CAP_KILL"));
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[0].hard, 4096u);
  EXPECT_EQ(p.rlimits[1].hard, RLIM_INFINITY);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(spec->root.path, "rootfs");
  EXPECT_TRUE(spec->root.readonly);
  EXPECT_EQ(spec->hostname, "box");
  ASSERT_EQ(spec->mounts.size(), 2u);
  EXPECT_EQ(spec->mounts[1].destination, "/data");
  EXPECT_EQ(spec->mounts[1].type, "bind");
  EXPECT_EQ(spec->mounts[1].source, "/srv/data");
  EXPECT_THAT(spec->mounts[1].options, ElementsAre("rbind", "ro"));
  ASSERT_TRUE(spec->linux_config.has_value());
  const LinuxConfig& l = *spec->linux_config;
  ASSERT_EQ(l.namespaces.size(), 2u);
  EXPECT_EQ(l.namespaces[1].type, "network");
  EXPECT_EQ(l.namespaces[1].path, "/proc/1/ns/net");
  EXPECT_EQ(l.resources["memory"]["limit"], 1048576);
  EXPECT_EQ(l.cgroups_path, "/palisade/x");
  EXPECT_THAT(l.masked_paths, ElementsAre("/proc/kcore"));
  EXPECT_THAT(l.readonly_paths, ElementsAre("/proc/sys"));
  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].host_id, 1000u);
  EXPECT_EQ(l.gid_mappings[0].host_id, 100u);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  ASSERT_EQ(spec->hooks.prestart.size(), 1u);
  EXPECT_EQ(spec->hooks.prestart[0].path, "/usr/bin/hook");
  EXPECT_EQ(spec->hooks.prestart[0].timeout, 5);
  EXPECT_FALSE(spec->hooks.empty());
  EXPECT_EQ(spec->annotations.at("org.example/key"), "value");
}

TEST(SpecParseTest, MinimalSpecGetsDefaults) {
  absl::StatusOr<OciSpec> spec =
      ParseSpec(R"({"process":{"args":["x"],"cwd":"/"},"root":{"path":"/r"}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->process->user.uid, 0u);
  EXPECT_FALSE(spec->process->user.umask.has_value());
  EXPECT_FALSE(spec->root.readonly);
  EXPECT_FALSE(spec->linux_config.has_value());
  EXPECT_TRUE(spec->hooks.empty());
}

TEST(SpecParseTest, ProcessIsOptional) {
  absl::StatusOr<OciSpec> spec = ParseSpec(R"({"root":{"path":"rootfs"}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->process.has_value());
}

TEST(SpecParseTest, NullCountsAsAbsent) {
  absl::StatusOr<OciSpec> spec = ParseSpec(
      R"({"process":{"args":["x"],"cwd":"/","env":null},"root":{"path":"r"},"mounts":null})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->process->env.empty());
}

struct BadCase {
  const char* name;
  const char* json;
  const char* want;  // substring of the error message
};

class SpecParseErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(SpecParseErrorTest, NamesTheField) {
  absl::StatusOr<OciSpec> spec = ParseSpec(GetParam().json);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("config.json: "));
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SpecParseErrorTest,
    ::testing::Values(
        BadCase{"Malformed", R"({"root": {"path": "r"},)", "invalid JSON: parse error at line 1"},
        BadCase{"NotAnObject", R"(["root"])", "top level: expected an object, got array"},
        BadCase{"MissingRoot", R"({"process":{"args":["x"],"cwd":"/"}})",
                "root: required field missing"},
        BadCase{"MissingRootPath", R"({"root":{"readonly":true}})",
                "root.path: required field missing"},
        BadCase{"EmptyRootPath", R"({"root":{"path":""}})", "root.path: must not be empty"},
        BadCase{"RootWrongType", R"({"root":"rootfs"})", "root: expected an object, got string"},
        BadCase{"MissingArgs", R"({"process":{"cwd":"/"},"root":{"path":"r"}})",
                "process.args: required field missing"},
        BadCase{"EmptyArgs", R"({"process":{"args":[],"cwd":"/"},"root":{"path":"r"}})",
                "process.args: must not be empty"},
        BadCase{"ArgsNotStrings", R"({"process":{"args":["a",1],"cwd":"/"},"root":{"path":"r"}})",
                "process.args[1]: expected a string, got number"},
        BadCase{"ArgsString", R"({"process":{"args":"sh","cwd":"/"},"root":{"path":"r"}})",
                "process.args: expected an array of strings, got string"},
        BadCase{"RelativeCwd", R"({"process":{"args":["x"],"cwd":"home"},"root":{"path":"r"}})",
                "process.cwd: must be an absolute path"},
        BadCase{"MissingCwd", R"({"process":{"args":["x"]},"root":{"path":"r"}})",
                "process.cwd: required field missing"},
        BadCase{"NegativeUid",
                R"({"process":{"args":["x"],"cwd":"/","user":{"uid":-1}},"root":{"path":"r"}})",
                "process.user.uid: expected an unsigned 32-bit integer, got negative number"},
        BadCase{"HugeGid",
                R"({"process":{"args":["x"],"cwd":"/","user":{"gid":4294967296}},"root":{"path":"r"}})",
                "process.user.gid: value 4294967296 does not fit"},
        BadCase{"TerminalString",
                R"({"process":{"args":["x"],"cwd":"/","terminal":"yes"},"root":{"path":"r"}})",
                "process.terminal: expected a boolean, got string"},
        BadCase{"UnknownRlimit",
                R"({"process":{"args":["x"],"cwd":"/","rlimits":[{"type":"RLIMIT_BOGUS","soft":1,"hard":1}]},"root":{"path":"r"}})",
                "process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\""},
        BadCase{"RlimitMissingHard",
                R"({"process":{"args":["x"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":1}]},"root":{"path":"r"}})",
                "process.rlimits[0].hard: required field missing"},
        BadCase{"RlimitSoftAboveHard",
                R"({"process":{"args":["x"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":9,"hard":1}]},"root":{"path":"r"}})",
                "process.rlimits[0]: soft limit 9 exceeds hard limit 1"},
        BadCase{"DuplicateRlimit",
                R"({"process":{"args":["x"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":1},{"type":"RLIMIT_NOFILE","soft":1,"hard":1}]},"root":{"path":"r"}})",
                "process.rlimits[1]: duplicate rlimit"},
        BadCase{"MountWithoutDestination", R"({"root":{"path":"r"},"mounts":[{"type":"proc"}]})",
                "mounts[0].destination: required field missing"},
        BadCase{"MountOptionsNotArray",
                R"({"root":{"path":"r"},"mounts":[{"destination":"/p","options":"ro"}]})",
                "mounts[0].options: expected an array of strings, got string"},
        BadCase{"UnknownNamespace", R"({"root":{"path":"r"},"linux":{"namespaces":[{"type":"foo"}]}})",
                "linux.namespaces[0].type: unknown namespace type \"foo\""},
        BadCase{"DuplicateNamespace",
                R"({"root":{"path":"r"},"linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}})",
                "linux.namespaces[1]: duplicate namespace type"},
        BadCase{"SysctlNotString", R"({"root":{"path":"r"},"linux":{"sysctl":{"a":1}}})",
                "linux.sysctl.a: expected a string, got number"},
        BadCase{"HookRelativePath", R"({"root":{"path":"r"},"hooks":{"poststop":[{"path":"x"}]}})",
                "hooks.poststop[0].path: must be an absolute path"},
        BadCase{"HookZeroTimeout",
                R"({"root":{"path":"r"},"hooks":{"prestart":[{"path":"/x","timeout":0}]}})",
                "hooks.prestart[0].timeout: must be greater than zero"},
        BadCase{"AnnotationsArray", R"({"root":{"path":"r"},"annotations":[]})",
                "annotations: expected an object of strings, got array"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(SpecParseTest, SourceNameAppearsInErrors) {
  absl::StatusOr<OciSpec> spec = ParseSpec("{", "process.json");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("process.json: invalid JSON"));
}

}  // namespace
}  // namespace palisade::oci
