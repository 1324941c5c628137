#include "runsc/sandbox/preflight.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/unit/runsc/test_util.h"

namespace palisade::sandbox {
namespace {

using ::palisade::testing::TempDir;
using ::palisade::testing::WriteFile;

class PreflightTest : public ::testing::Test {
 protected:
  void SetScope(const char* v) {
    std::filesystem::create_directories(tmp_.Sub("proc/sys/kernel/yama"));
    WriteFile(tmp_.Sub("proc/sys/kernel/yama/ptrace_scope"), v);
  }
  TempDir tmp_;
};

TEST_F(PreflightTest, NoYamaOrLowScopeIsFine) {
  EXPECT_TRUE(Preflight("ptrace", tmp_.Sub("proc")).ok());
  SetScope("1\n");
  EXPECT_TRUE(Preflight("ptrace", tmp_.Sub("proc")).ok());
}

TEST_F(PreflightTest, ScopeThreeNamesTheSettingAndTheFix) {
  SetScope("3\n");
  absl::Status s = Preflight("ptrace", tmp_.Sub("proc"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kernel.yama.ptrace_scope=3"), std::string::npos) << s;
  EXPECT_NE(s.message().find("reboot"), std::string::npos) << s;
}

TEST_F(PreflightTest, OtherPlatformsAreNotChecked) {
  SetScope("3\n");
  EXPECT_TRUE(Preflight("systrap", tmp_.Sub("proc")).ok());
}

}  // namespace
}  // namespace palisade::sandbox
