#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runsc/container/files.h"
#include "runsc/container/id.h"
#include "runsc/container/state.h"
#include "tests/unit/runsc/test_util.h"

namespace palisade {
namespace {

using ::palisade::testing::ReadFile;
using ::palisade::testing::TempDir;
using ::testing::HasSubstr;

TEST(ContainerIdTest, AcceptsRuncsCharacters) {
  for (const char* id : {"a", "my-container_1", "A.b+c-D_9", "..a", "a.."}) {
    EXPECT_TRUE(ValidateContainerId(id).ok()) << id;
  }
}

TEST(ContainerIdTest, RejectsEverythingElse) {
  for (const char* id : {"", ".", "..", "a/b", "/abs", "a b", "a,b", "a:b", "ä", "a\nb", "a*"}) {
    absl::Status s = ValidateContainerId(id);
    ASSERT_FALSE(s.ok()) << id;
    EXPECT_THAT(std::string(s.message()), HasSubstr("invalid id format")) << id;
  }
}

ContainerState SampleState(const std::string& id) {
  ContainerState s;
  s.oci_version = "1.0.2";
  s.id = id;
  s.status = kStatusRunning;
  s.pid = 42;
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = NowRfc3339();
  s.annotations = {{"k", "v"}};
  return s;
}

TEST(StateJsonTest, StatePrintsRuncsKeysAndTheFileRoundTrips) {
  ContainerState s = SampleState("c1");
  s.start_time = 1234;
  s.cgroup = "/palisade/c1";
  nlohmann::ordered_json shown = StateToJson(s);
  std::vector<std::string> keys;
  for (auto& [k, v] : shown.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"ociVersion", "id", "status", "pid", "bundle", "rootfs",
                                            "created", "annotations", "owner"}));
  absl::StatusOr<ContainerState> back = StateFromFileJson(StateToFileJson(s).dump());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->start_time, 1234u);
  EXPECT_EQ(back->cgroup, "/palisade/c1");
  EXPECT_EQ(back->annotations, s.annotations);
  EXPECT_FALSE(StateFromFileJson("{not json").ok());
}

TEST(StateDirTest, CreateWritesStateJsonAndRemoveDeletesIt) {
  TempDir tmp;
  const std::string root = tmp.Sub("state/root");  // parents are created
  absl::StatusOr<StateDir> dir = StateDir::Create(root, SampleState("c1"));
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(dir->path(), root + "/c1");
  struct stat st;
  ASSERT_EQ(stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  nlohmann::json j = nlohmann::json::parse(ReadFile(dir->state_file()));
  EXPECT_EQ(j["ociVersion"], "1.0.2");
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["pid"], 42);
  EXPECT_EQ(j["bundle"], "/b");
  EXPECT_EQ(j["rootfs"], "/b/rootfs");
  EXPECT_EQ(j["annotations"]["k"], "v");
  const std::string created = j["created"];
  EXPECT_TRUE(std::regex_match(created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")))
      << created;

  ContainerState stopped = SampleState("c1");
  stopped.status = kStatusStopped;
  ASSERT_TRUE(dir->Update(stopped).ok());
  EXPECT_EQ(nlohmann::json::parse(ReadFile(dir->state_file()))["status"], "stopped");

  ASSERT_TRUE(dir->Remove().ok());
  EXPECT_FALSE(std::filesystem::exists(root + "/c1"));
  EXPECT_TRUE(std::filesystem::exists(root));
}

TEST(StateDirTest, DuplicateIdUsesRuncsMessage) {
  TempDir tmp;
  absl::StatusOr<StateDir> first = StateDir::Create(tmp.path(), SampleState("dup"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<StateDir> second = StateDir::Create(tmp.path(), SampleState("dup"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(second.status().message(), "container with given ID already exists");
  // The first container's state is untouched.
  EXPECT_TRUE(std::filesystem::exists(first->state_file()));
}

TEST(PidFileTest, WritesTheDecimalPidWithoutNewline) {
  TempDir tmp;
  ASSERT_TRUE(WritePidFile(tmp.Sub("x.pid"), 1234).ok());
  EXPECT_EQ(ReadFile(tmp.Sub("x.pid")), "1234");
  ASSERT_TRUE(WritePidFile(tmp.Sub("x.pid"), 99).ok());  // replaces
  EXPECT_EQ(ReadFile(tmp.Sub("x.pid")), "99");
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub(".x.pid.tmp")));
}

TEST(PidFileTest, MissingDirectoryNamesThePath) {
  TempDir tmp;
  absl::Status s = WritePidFile(tmp.Sub("no/such/dir/x.pid"), 1);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr(tmp.Sub("no/such/dir")));
}

}  // namespace
}  // namespace palisade
