#include "runsc/sandbox/cgroup.h"

#include <sys/stat.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/unit/runsc/test_util.h"

namespace palisade::sandbox {
namespace {

using ::palisade::testing::ReadFile;
using ::palisade::testing::TempDir;
using ::palisade::testing::WriteFile;

TEST(ParseResources, MemoryCpuPids) {
  auto r = ParseResources(nlohmann::json::parse(
      R"({"memory":{"limit":67108864},"cpu":{"shares":512,"quota":50000,"period":100000},
          "pids":{"limit":32},"devices":[{"allow":false,"access":"rwm"}]})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->memory_limit, 67108864);
  EXPECT_EQ(r->cpu_shares, 512u);
  EXPECT_EQ(r->cpu_quota, 50000);
  EXPECT_EQ(r->cpu_period, 100000u);
  EXPECT_EQ(r->pids_limit, 32);
  EXPECT_FALSE(r->memory_swap.has_value());
}

TEST(ParseResources, NullIsNoLimitsAndBadTypesAreErrors) {
  auto r = ParseResources(nlohmann::json());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->memory_limit.has_value());
  EXPECT_FALSE(ParseResources(nlohmann::json::parse(R"({"memory":{"limit":"lots"}})")).ok());
  EXPECT_FALSE(ParseResources(nlohmann::json::parse("[1]")).ok());
}

TEST(CgroupPathFor, DefaultAbsoluteRelativeAndSystemd) {
  EXPECT_EQ(CgroupPathFor("", "c1"), "/palisade/c1");
  EXPECT_EQ(CgroupPathFor("/a/b", "c1"), "/a/b");
  EXPECT_EQ(CgroupPathFor("a/b", "c1"), "/a/b");
  EXPECT_EQ(CgroupPathFor("/a/../../b", "c1"), "/b") << "no escape above the hierarchy root";
  EXPECT_EQ(CgroupPathFor("system.slice:palisade:c1", "c1"), "/system.slice/palisade-c1.scope");
}

// A fake v1 hierarchy: each controller a directory with its limit files.
class FakeV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.Sub("cg");
    for (const char* c : {"memory", "pids", "cpu", "freezer"}) {
      std::filesystem::create_directories(root_ + "/" + c + "/palisade/c1");
    }
    WriteFile(root_ + "/memory/palisade/c1/memory.limit_in_bytes", "");
    WriteFile(root_ + "/pids/palisade/c1/pids.max", "");
    WriteFile(root_ + "/cpu/palisade/c1/cpu.shares", "");
  }
  TempDir tmp_;
  std::string root_;
};

TEST_F(FakeV1, LimitsAreWrittenPerController) {
  Resources res;
  res.memory_limit = 64 << 20;
  res.pids_limit = 16;
  res.cpu_shares = 256;
  auto cg = Cgroup::Create("/palisade/c1", res, root_);
  ASSERT_TRUE(cg.ok()) << cg.status();
  EXPECT_FALSE(cg->v2());
  EXPECT_EQ(ReadFile(root_ + "/memory/palisade/c1/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(ReadFile(root_ + "/pids/palisade/c1/pids.max"), "16");
  EXPECT_EQ(ReadFile(root_ + "/cpu/palisade/c1/cpu.shares"), "256");
}

TEST_F(FakeV1, MissingControllerFileIsAnErrorNotSilence) {
  Resources res;
  res.cpu_quota = 1000;  // no cpu.cfs_quota_us in the fake tree
  auto cg = Cgroup::Create("/palisade/c1", res, root_);
  ASSERT_FALSE(cg.ok());
  EXPECT_NE(cg.status().message().find("cpu.cfs_quota_us"), std::string::npos) << cg.status();
}

}  // namespace
}  // namespace palisade::sandbox
